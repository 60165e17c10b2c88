// Copy the "How to cite" text; show references in tooltips on citation hover and focus.
(function () {
  "use strict";
  document.querySelectorAll("button.copy").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.dataset.copy);
      if (!source) { return; }
      var text = source.textContent.replace(/\s+/g, " ").trim();
      var done = function () { button.textContent = "Copied"; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () {});
      } else {
        var range = document.createRange();
        range.selectNodeContents(source);
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        try { document.execCommand("copy"); done(); } catch (e) { /* selection stays for manual copy */ }
      }
    });
  });
  var tip = document.createElement("div");
  tip.className = "ref-tooltip";
  tip.setAttribute("role", "tooltip");
  tip.id = "ref-tooltip";
  tip.hidden = true;
  document.body.appendChild(tip);
  function show(link) {
    var id = decodeURIComponent(link.getAttribute("href").slice(1));
    var entry = document.getElementById(id);
    if (!entry) { return; }
    // The entry's text without its back-links to the citations.
    var copy = entry.cloneNode(true);
    copy.querySelectorAll(".backrefs").forEach(function (node) { node.remove(); });
    tip.textContent = copy.textContent.replace(/\s+/g, " ").trim();
    var box = link.getBoundingClientRect();
    tip.hidden = false;
    var left = Math.max(8, Math.min(window.scrollX + box.left, window.scrollX + document.documentElement.clientWidth - tip.offsetWidth - 8));
    tip.style.left = left + "px";
    tip.style.top = (window.scrollY + box.bottom + 6) + "px";
    link.setAttribute("aria-describedby", "ref-tooltip");
  }
  function hide(link) { tip.hidden = true; link.removeAttribute("aria-describedby"); }
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !tip.hidden) { tip.hidden = true; }
  });
  document.querySelectorAll('a[role="doc-biblioref"]').forEach(function (link) {
    link.addEventListener("mouseenter", function () { show(link); });
    link.addEventListener("focus", function () { show(link); });
    link.addEventListener("mouseleave", function () { hide(link); });
    link.addEventListener("blur", function () { hide(link); });
  });
})();
