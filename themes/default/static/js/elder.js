/* 长者模式 (elderly-friendly mode): loaded in <head> so the page never flashes in the normal style.
   On when ?elder=1 is in the address (remembered), when the switch was pressed before (localStorage),
   off with ?elder=0. The mode is the separate stylesheet elder.css; html.elder marks it for scripts
   (gallery.js opens no lightbox then: no pop-ups in this mode). */
(function () {
  "use strict";
  var KEY = "zhuanti-elder";
  var root = document.documentElement;
  function stored() {
    try { return window.localStorage.getItem(KEY) === "1"; } catch (e) { return false; }
  }
  function store(on) {
    try { window.localStorage.setItem(KEY, on ? "1" : "0"); } catch (e) { /* private mode: not remembered */ }
  }
  var param = /[?&]elder=([01])\b/.exec(window.location.search);
  if (param) { store(param[1] === "1"); }
  var on = param ? param[1] === "1" : stored();

  function apply(state) {
    var alt = document.querySelector("link[data-elder-css]");
    if (alt) {
      // Once scripts run, the link is an ordinary stylesheet switched by its media query: "not all"
      // never applies, whatever the browser makes of alternate stylesheets and their titles.
      alt.rel = "stylesheet";
      alt.removeAttribute("title");
      alt.media = state ? "all" : "not all";
      alt.disabled = false;
    }
    root.classList.toggle("elder", state);
    var sw = document.querySelector("[data-elder-switch]");
    if (sw) {
      sw.setAttribute("aria-pressed", state ? "true" : "false");
      sw.textContent = state ? "退出长者模式" : "长者模式";
    }
  }
  if (on) { root.classList.add("elder"); }
  document.addEventListener("DOMContentLoaded", function () {
    apply(on);
    var sw = document.querySelector("[data-elder-switch]");
    if (!sw) { return; }
    sw.hidden = false;
    sw.addEventListener("click", function () {
      on = !on;
      store(on);
      apply(on);
    });
  });
  // The <link> sits before this script in <head>: switch it now, before the first paint.
  var early = document.querySelector("link[data-elder-css]");
  if (early && on) { early.rel = "stylesheet"; early.removeAttribute("title"); early.media = "all"; early.disabled = false; }
}());
