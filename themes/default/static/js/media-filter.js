/* Tag filter of the media index page (media_index.html): progressive enhancement, no inline script.
   Buttons carry aria-pressed; hidden items get the `hidden` attribute; the status line is a live region. */
(function () {
  "use strict";
  var box = document.querySelector("[data-media-filter]");
  if (!box) { return; }
  var buttons = Array.prototype.slice.call(box.querySelectorAll("button[data-tag]"));
  var items = Array.prototype.slice.call(document.querySelectorAll(".media-item[data-tags]"));
  var groups = Array.prototype.slice.call(document.querySelectorAll("[data-media-group]"));
  var status = box.querySelector("[data-media-status]");

  function tagsOf(item) {
    try { return JSON.parse(item.getAttribute("data-tags")) || []; } catch (e) { return []; }
  }

  function apply(tag) {
    var shown = 0;
    items.forEach(function (item) {
      var visible = !tag || tagsOf(item).indexOf(tag) !== -1;
      item.hidden = !visible;
      if (visible) { shown += 1; }
    });
    groups.forEach(function (group) {
      group.hidden = !group.querySelector(".media-item:not([hidden])");
    });
    buttons.forEach(function (b) {
      b.setAttribute("aria-pressed", b.getAttribute("data-tag") === tag ? "true" : "false");
    });
    if (status) {
      status.textContent = tag ? "标签“" + tag + "”：共 " + shown + " 项" : "显示全部 " + shown + " 项";
    }
  }

  buttons.forEach(function (b) {
    b.addEventListener("click", function () { apply(b.getAttribute("data-tag") || ""); });
  });
  box.hidden = false;
}());
