/* Detail-page tools: 字号 大/中/小 (remembered for the next article) and 打印. */
(function () {
  "use strict";
  var KEY = "zhuanti-font-size";
  var article = document.querySelector("[data-article]");
  var tools = document.querySelector("[data-article-tools]");
  if (!article || !tools) { return; }
  var buttons = Array.prototype.slice.call(tools.querySelectorAll("[data-font-size]"));
  function set(size, remember) {
    article.classList.remove("font-large", "font-small");
    if (size === "large" || size === "small") { article.classList.add("font-" + size); }
    buttons.forEach(function (b) {
      b.setAttribute("aria-pressed", b.getAttribute("data-font-size") === size ? "true" : "false");
    });
    if (remember) {
      try { window.localStorage.setItem(KEY, size); } catch (e) { /* not remembered */ }
    }
  }
  buttons.forEach(function (b) {
    b.addEventListener("click", function () { set(b.getAttribute("data-font-size"), true); });
  });
  var saved = null;
  try { saved = window.localStorage.getItem(KEY); } catch (e) { saved = null; }
  if (saved) { set(saved, false); }
  var print = tools.querySelector("[data-print]");
  if (print) { print.addEventListener("click", function () { window.print(); }); }
  tools.hidden = false;
}());
