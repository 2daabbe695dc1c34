// The check-in desk's camera scanner (templates/registrations/checkin.html): on a browser with
// the BarcodeDetector API and a camera (many phones), a "Scan with the camera" button reads a QR
// code through getUserMedia, puts the code in the desk's box and submits its form. Progressive
// enhancement: without the API the section stays hidden and the box (typed or a USB scanner)
// works as before. A static file because the page's Content-Security-Policy allows scripts from
// this site only (no inline script); the desk's Permissions-Policy lets this page ask for the
// camera.
(function () {
  "use strict";

  var section = document.getElementById("camera-scan");
  var form = document.getElementById("checkin-form");
  var input = document.getElementById("checkin-code");
  if (!section || !form || !input) {
    return;
  }
  if (
    typeof window.BarcodeDetector !== "function" ||
    !navigator.mediaDevices ||
    typeof navigator.mediaDevices.getUserMedia !== "function"
  ) {
    return; // no camera scanning here: the box stays the way in
  }
  var start = document.getElementById("camera-start");
  var stop = document.getElementById("camera-stop");
  var video = document.getElementById("camera-video");
  var statusEl = document.getElementById("camera-status");
  var detector = null;
  var stream = null;
  var timer = null;
  var busy = false;

  function say(text) {
    statusEl.textContent = text;
  }

  function halt() {
    if (timer !== null) {
      window.clearInterval(timer);
      timer = null;
    }
    if (stream !== null) {
      stream.getTracks().forEach(function (track) {
        track.stop();
      });
      stream = null;
    }
    video.srcObject = null;
    video.hidden = true;
    stop.hidden = true;
    start.hidden = false;
  }

  function found(code) {
    halt();
    input.value = code;
    say("Read " + code + ": checking in…");
    if (typeof form.requestSubmit === "function") {
      form.requestSubmit();
    } else {
      form.submit();
    }
  }

  function look() {
    if (busy || video.readyState < 2) {
      return;
    }
    busy = true;
    detector
      .detect(video)
      .then(function (codes) {
        var text = codes.length ? String(codes[0].rawValue || "").trim() : "";
        if (text) {
          found(text);
        }
      })
      .catch(function () {
        // one unreadable frame: the next one is tried
      })
      .then(function () {
        busy = false;
      });
  }

  function begin() {
    say("Asking for the camera…");
    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (media) {
        stream = media;
        video.srcObject = media;
        video.hidden = false;
        start.hidden = true;
        stop.hidden = false;
        return video.play();
      })
      .then(function () {
        say("Point the camera at the participant's QR code.");
        timer = window.setInterval(look, 250);
      })
      .catch(function (error) {
        halt();
        say(
          error && error.name === "NotAllowedError"
            ? "The camera was not allowed: type or scan the code into the box instead."
            : "The camera could not be started: type or scan the code into the box instead."
        );
      });
  }

  Promise.resolve(
    typeof window.BarcodeDetector.getSupportedFormats === "function"
      ? window.BarcodeDetector.getSupportedFormats()
      : ["qr_code"]
  )
    .then(function (formats) {
      if (formats.indexOf("qr_code") === -1) {
        return; // this browser's detector reads no QR codes
      }
      detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      section.hidden = false;
      start.addEventListener("click", begin);
      stop.addEventListener("click", function () {
        halt();
        say("");
        input.focus();
      });
      window.addEventListener("pagehide", halt);
    })
    .catch(function () {
      // the detector is there but cannot say what it reads: leave the section hidden
    });
})();
