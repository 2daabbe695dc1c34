// The results reveal (templates/results/reveal.html): one step at a time on a projector. Space,
// the right arrow, Enter, Page Down or a click shows the next step; the left arrow, Backspace
// or Page Up the previous; Home goes back to the start. Each step shown is read out by the
// status region. Without this script the page lists every step. A static file: the
// Content-Security-Policy allows no inline script.
(function () {
  "use strict";

  var root = document.getElementById("reveal");
  if (!root) {
    return;
  }
  var slides = Array.prototype.slice.call(root.querySelectorAll(".reveal-slide"));
  var counter = document.getElementById("reveal-counter");
  var announce = document.getElementById("reveal-announce");
  var previous = document.getElementById("reveal-previous");
  var next = document.getElementById("reveal-next");
  var current = -1;

  function text(slide) {
    return slide.textContent.replace(/\s+/g, " ").trim();
  }

  function show(index) {
    index = Math.max(0, Math.min(slides.length - 1, index));
    if (index === current) {
      return;
    }
    slides.forEach(function (slide, n) {
      slide.hidden = n !== index;
    });
    current = index;
    root.setAttribute("data-current", String(index));
    counter.textContent = index === 0 ? "Ready" : index + " / " + (slides.length - 1);
    previous.disabled = index === 0;
    next.disabled = index === slides.length - 1;
    if (index > 0) {
      announce.textContent = text(slides[index]);
    }
  }

  root.classList.add("reveal-live");
  previous.hidden = false;
  next.hidden = false;
  previous.addEventListener("click", function () {
    show(current - 1);
  });
  next.addEventListener("click", function () {
    show(current + 1);
  });
  root.addEventListener("click", function (event) {
    if (!event.target.closest("a, button")) {
      show(current + 1);
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    var target = event.target;
    var onControl = target && target.closest && target.closest("a, button");
    var key = event.key;
    if (key === " " || key === "Spacebar" || key === "ArrowRight" || key === "PageDown" || (key === "Enter" && !onControl)) {
      if (key === " " && onControl) {
        return; // a focused button takes its own space
      }
      event.preventDefault();
      show(current + 1);
    } else if (key === "ArrowLeft" || key === "PageUp" || key === "Backspace") {
      event.preventDefault();
      show(current - 1);
    } else if (key === "Home") {
      event.preventDefault();
      show(0);
    }
  });
  show(0);
})();
