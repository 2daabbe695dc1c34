// The projector pages (templates/layouts/projector.html): the "Full screen" button, and the F
// key, put the page in full screen and take it out again. The button shows only where the
// browser can do it. A static file: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";

  var button = document.getElementById("fullscreen");
  var root = document.documentElement;
  if (!button || typeof root.requestFullscreen !== "function") {
    return;
  }

  function label() {
    var full = Boolean(document.fullscreenElement);
    button.firstChild.textContent = full ? "Leave full screen " : "Full screen ";
    button.setAttribute("aria-pressed", full ? "true" : "false");
  }

  function toggle() {
    if (document.fullscreenElement) {
      document.exitFullscreen();
    } else {
      root.requestFullscreen().catch(function () {
        // Refused (not started by a person's action, or not allowed here): nothing changes.
      });
    }
  }

  button.hidden = false;
  label();
  button.addEventListener("click", toggle);
  document.addEventListener("fullscreenchange", label);
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
    if (!typing && !event.ctrlKey && !event.metaKey && !event.altKey && (event.key === "f" || event.key === "F")) {
      event.preventDefault();
      toggle();
    }
  });
})();
