/* zhuanti serve: reloads the page after a rebuild that changed it, shows the build-error overlay.
   The channel falls back from WebSocket to Server-Sent Events to long-polling when one cannot
   connect or stays silent (a proxy that blocks or buffers it). Settings come from the script tag. */
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me || window.__zhuantiReload) { return; }
  window.__zhuantiReload = true;
  var base = me.getAttribute("data-reload");
  var version = Number(me.getAttribute("data-version")) || 0;
  var page = me.getAttribute("data-page") || "";
  var boot = me.getAttribute("data-boot");
  var order = ["ws", "sse", "poll"];
  var at = 0;             // index in order of the channel being tried
  var HELLO_MS = 5000;    // a channel that says nothing this long after opening is given up
  var retry = 500;        // back-off while the server is away (restarting)
  var OVERLAY = "zhuanti-overlay";

  function endpoint(name) {
    var u = new URL(base + name, location.href);
    if (name === "ws") { u.protocol = u.protocol === "https:" ? "wss:" : "ws:"; }
    u.searchParams.set("since", String(version));
    return u.href;
  }

  function mark(kind) { document.documentElement.setAttribute("data-zhuanti-channel", kind); }

  function reload() {
    document.documentElement.setAttribute("data-zhuanti-reloading", "1");
    location.reload();
  }

  function showOverlay(html) {
    var old = document.getElementById(OVERLAY);
    if (old) { old.parentNode.removeChild(old); }
    if (html) { document.body.insertAdjacentHTML("beforeend", html); }
  }

  function handle(msg) {
    if (!msg) { return; }
    if (msg.type === "hello") {
      if (msg.boot !== boot) { reload(); }   // another server run: every page may differ
      return;
    }
    if (msg.version <= version) { return; }
    version = msg.version;
    if (typeof msg.overlay === "string") { showOverlay(msg.overlay); }
    if (msg.type === "reload" && (msg.all || !page || (msg.changed || []).indexOf(page) >= 0)) { reload(); }
  }

  function next() {             // the channel never worked: the next one, or wait when none is left
    if (at < order.length - 1) { at += 1; connect(); } else { again(); }
  }

  function again() {           // the channel worked before: the server went away; try it again later
    setTimeout(connect, retry);
    retry = Math.min(retry * 2, 5000);
  }

  function connect() {
    ({ ws: viaSocket, sse: viaEvents, poll: viaPolling })[order[at]]();
  }

  function attempt(kind, open, close) {
    // One try of a channel: heard() on each message; failed() falls back unless it was heard before.
    var done = false, heard = false, handle_ = null;
    var timer = setTimeout(function () { failed(); }, HELLO_MS);
    function failed() {
      if (done) { return; }
      done = true;
      clearTimeout(timer);
      close(handle_);
      if (heard) { again(); } else { next(); }
    }
    function got(msg) {
      if (!heard) { heard = true; retry = 500; clearTimeout(timer); mark(kind); }
      handle(msg);
    }
    handle_ = open(got, failed);
  }

  function viaSocket() {
    if (!window.WebSocket) { return next(); }
    attempt("ws", function (got, failed) {
      var sock;
      try { sock = new WebSocket(endpoint("ws")); } catch (e) { setTimeout(failed, 0); return null; }
      sock.onmessage = function (ev) { got(JSON.parse(ev.data)); };
      sock.onclose = failed;
      return sock;
    }, function (sock) { if (sock) { sock.onclose = null; try { sock.close(); } catch (e) { /* closed */ } } });
  }

  function viaEvents() {
    if (!window.EventSource) { return next(); }
    attempt("sse", function (got, failed) {
      var es = new EventSource(endpoint("events"));
      var heard = false;
      es.onmessage = function (ev) { heard = true; got(JSON.parse(ev.data)); };
      // EventSource reconnects by itself (sending Last-Event-ID); give up only if it never worked
      // or the server is gone for good (CLOSED).
      es.onerror = function () { if (!heard || es.readyState === 2) { failed(); } };
      return es;
    }, function (es) { if (es) { es.close(); } });
  }

  function viaPolling() {
    var stopped = false;
    attempt("poll", function (got, failed) {
      function ask(first) {
        if (stopped) { return; }
        fetch(endpoint("poll") + (first ? "&hello=1" : ""), { cache: "no-store", credentials: "same-origin" })
          .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
          .then(function (data) { got(data.hello); handle(data.message); setTimeout(ask, 0); })
          .catch(function () { failed(); });
      }
      ask(true);   // answered at once: the channel works
      return null;
    }, function () { stopped = true; });
  }

  connect();
})();
