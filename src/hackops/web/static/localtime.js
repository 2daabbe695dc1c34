// The viewer's own time beside a time shown in another zone (progressive enhancement: the page
// says every time in words without this). Each <time class="event-time"> carries its instant
// (datetime) and the offset of the zone it is shown in (data-offset, minutes east of UTC); when
// the browser's offset at that instant differs, " · Sat 12 Dec, 08:00 EST (your time)" follows it.
(function () {
  "use strict";
  var times = document.querySelectorAll("time.event-time[datetime][data-offset]");
  if (!times.length || typeof Intl === "undefined") { return; }
  times.forEach(function (element) {
    var instant = new Date(element.getAttribute("datetime"));
    if (isNaN(instant.getTime())) { return; }
    var shownOffset = parseInt(element.getAttribute("data-offset"), 10);
    var ownOffset = -instant.getTimezoneOffset();
    if (ownOffset === shownOffset) { return; }
    var options = {
      weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
      timeZoneName: "short"
    };
    var local = document.createElement("span");
    local.className = "local-time";
    local.textContent = " · " + new Intl.DateTimeFormat(undefined, options).format(instant) + " (your time)";
    element.insertAdjacentElement("afterend", local);
  });
})();
