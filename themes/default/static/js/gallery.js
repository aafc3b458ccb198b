/* Lightbox for photo grids: links marked data-lightbox open the large photo in a modal <dialog>
   (Tab stays inside, Esc closes, focus returns to the photo). Keys: ← → to browse, Home/End.
   Touch: swipe left/right. Without JavaScript, or in 长者模式 (no pop-ups), the link simply opens
   the photo. */
(function () {
  "use strict";
  var links = Array.prototype.slice.call(document.querySelectorAll("a[data-lightbox]"));
  if (!links.length || typeof HTMLDialogElement === "undefined") { return; }
  var dialog = null, img, caption, count, index = 0, opener = null;

  function captionOf(link) {
    var fig = link.closest("figure");
    var cap = fig && fig.querySelector("figcaption");
    if (cap) {
      var copy = cap.cloneNode(true);
      Array.prototype.forEach.call(copy.querySelectorAll(".media-tags, .media-duration"), function (n) { n.remove(); });
      return copy.innerHTML;
    }
    var pic = link.querySelector("img");
    return pic ? pic.getAttribute("alt") || "" : "";
  }
  function visible() {
    return links.filter(function (l) { return !l.closest("[hidden]"); });
  }
  function build() {
    dialog = document.createElement("dialog");
    dialog.className = "lightbox";
    dialog.setAttribute("aria-label", "查看大图");
    dialog.innerHTML =
      '<div class="lightbox-inner">' +
      '<div class="lightbox-bar"><span class="lightbox-count" aria-live="polite"></span>' +
      '<button type="button" class="lightbox-close" aria-label="关闭">✕</button></div>' +
      '<div class="lightbox-stage"><button type="button" class="lightbox-prev" aria-label="上一张">‹</button>' +
      '<img alt=""><button type="button" class="lightbox-next" aria-label="下一张">›</button></div>' +
      '<p class="lightbox-caption"></p></div>';
    document.body.appendChild(dialog);
    img = dialog.querySelector("img");
    caption = dialog.querySelector(".lightbox-caption");
    count = dialog.querySelector(".lightbox-count");
    dialog.querySelector(".lightbox-close").addEventListener("click", function () { dialog.close(); });
    dialog.querySelector(".lightbox-prev").addEventListener("click", function () { show(index - 1); });
    dialog.querySelector(".lightbox-next").addEventListener("click", function () { show(index + 1); });
    dialog.addEventListener("keydown", function (e) {
      if (e.key === "ArrowLeft") { show(index - 1); e.preventDefault(); }
      else if (e.key === "ArrowRight") { show(index + 1); e.preventDefault(); }
      else if (e.key === "Home") { show(0); e.preventDefault(); }
      else if (e.key === "End") { show(visible().length - 1); e.preventDefault(); }
      else if (e.key === "Tab") {
        // Keep Tab inside the dialog (a modal <dialog> would otherwise let focus leave for the browser's UI).
        var buttons = Array.prototype.slice.call(dialog.querySelectorAll("button"));
        var at = buttons.indexOf(document.activeElement);
        var next = e.shiftKey ? (at <= 0 ? buttons.length - 1 : at - 1) : (at + 1) % buttons.length;
        buttons[next].focus();
        e.preventDefault();
      }
    });
    dialog.addEventListener("click", function (e) { if (e.target === dialog) { dialog.close(); } });
    dialog.addEventListener("close", function () {
      img.removeAttribute("src");
      if (opener) { opener.focus(); }
    });
    var x0 = null, y0 = null;
    var stage = dialog.querySelector(".lightbox-stage");
    stage.addEventListener("pointerdown", function (e) { x0 = e.clientX; y0 = e.clientY; });
    stage.addEventListener("pointerup", function (e) {
      if (x0 === null) { return; }
      var dx = e.clientX - x0, dy = e.clientY - y0;
      x0 = null;
      if (Math.abs(dx) > 40 && Math.abs(dx) > Math.abs(dy)) { show(index + (dx < 0 ? 1 : -1)); }
    });
  }
  function show(i) {
    var list = visible();
    if (!list.length) { return; }
    index = (i + list.length) % list.length;
    var link = list[index];
    var thumb = link.querySelector("img");
    img.src = link.getAttribute("href");
    img.alt = thumb ? thumb.getAttribute("alt") || "" : "";
    caption.innerHTML = captionOf(link);
    count.textContent = (index + 1) + " / " + list.length;
  }
  links.forEach(function (link) {
    link.addEventListener("click", function (e) {
      if (document.documentElement.classList.contains("elder") || e.ctrlKey || e.metaKey || e.shiftKey) { return; }
      e.preventDefault();
      if (!dialog) { build(); }
      opener = link;
      show(visible().indexOf(link));
      dialog.showModal();
      dialog.querySelector(".lightbox-close").focus();
    });
  });
}());
