/* Optional enhancements; every page works without this file. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    // Move focus to the first field in error so keyboard and screen-reader users land on it.
    var invalid = document.querySelector("[aria-invalid='true']");
    if (invalid) {
      invalid.focus();
    }
    // A table wider than the screen scrolls in its frame: make that frame reachable by
    // keyboard (a named region in the tab order) while, and only while, it scrolls.
    var frames = document.querySelectorAll(".table-wrap");
    function reachable() {
      frames.forEach(function (frame) {
        if (frame.scrollWidth > frame.clientWidth) {
          if (!frame.hasAttribute("data-scroll-frame")) {
            var caption = frame.querySelector("caption");
            var heading = frame.closest("section") && frame.closest("section").querySelector("h1, h2, h3");
            var name = (caption || heading || document.querySelector("h1") || {}).textContent || "Table";
            frame.setAttribute("data-scroll-frame", "");
            frame.setAttribute("tabindex", "0");
            frame.setAttribute("role", "region");
            frame.setAttribute("aria-label", name.trim() + " (scrolls sideways)");
          }
        } else if (frame.hasAttribute("data-scroll-frame")) {
          frame.removeAttribute("data-scroll-frame");
          frame.removeAttribute("tabindex");
          frame.removeAttribute("role");
          frame.removeAttribute("aria-label");
        }
      });
    }
    if (frames.length) {
      reachable();
      window.addEventListener("resize", reachable);
    }
    // Prevent a double submission while the server answers.
    document.querySelectorAll("form").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        form.querySelectorAll("button[type='submit']").forEach(function (button) {
          // Not when a check in the page stopped the submission: the user corrects and resends.
          window.setTimeout(function () { button.disabled = !event.defaultPrevented || form.hasAttribute("data-sending"); }, 0);
        });
      });
    });
  });
})();
