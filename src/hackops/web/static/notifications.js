// Live notifications for signed-in pages (templates/base.html): keeps the header's unread badge
// current and shows a small toast for each new notification, without a reload.
//
// It listens on the notification socket (/ws/notifications, the session cookie signs it in).
// When the socket cannot open or closes, it polls the unread count (every 30 s) and tries the
// socket again with a growing pause (1 s doubling to 60 s). Close code 4401 means the session
// ended: it stops. On the notifications page, following an unread item's link marks it read.
// Text from the server is only ever set as textContent; a link is followed only when it is a
// path on this site. A static file because the Content-Security-Policy allows no inline script.
(function () {
  "use strict";

  var link = document.getElementById("notifications-link");
  if (!link) {
    return; // signed out
  }
  var badge = document.getElementById("notifications-badge");
  var countEl = document.getElementById("notifications-count");
  var toasts = document.getElementById("live-toasts");
  var POLL_MS = 30000;
  var FIRST_RETRY_MS = 1000;
  var MAX_RETRY_MS = 60000;
  var TOAST_MS = 8000;
  var MAX_TOASTS = 3;
  var ACCESS_ENDED = 4401;

  var socket = null;
  var pollTimer = null;
  var retryTimer = null;
  var retryMs = FIRST_RETRY_MS;
  var stopped = false;

  function setCount(value) {
    var count = Number(value);
    if (!isFinite(count) || count < 0) {
      return;
    }
    countEl.textContent = count > 99 ? "99+" : String(count);
    badge.hidden = count === 0;
    link.setAttribute("data-unread", String(count));
  }

  function sitePath(value) {
    // Only a path on this site ("/…", never "//host" or "/\host").
    if (typeof value !== "string" || value.charAt(0) !== "/") {
      return null;
    }
    var second = value.charAt(1);
    return second === "/" || second === "\\" ? null : value;
  }

  function toast(note) {
    if (!toasts || !note || typeof note.title !== "string") {
      return;
    }
    var box = document.createElement("div");
    box.className = "live-toast";
    var title = document.createElement("p");
    title.className = "live-toast-title";
    var href = sitePath(note.link);
    if (href) {
      var a = document.createElement("a");
      a.href = href;
      a.textContent = note.title;
      title.appendChild(a);
    } else {
      title.textContent = note.title;
    }
    box.appendChild(title);
    if (typeof note.body === "string" && note.body) {
      var body = document.createElement("p");
      body.className = "live-toast-body";
      body.textContent = note.body;
      box.appendChild(body);
    }
    var close = document.createElement("button");
    close.type = "button";
    close.className = "link-button live-toast-close";
    close.textContent = "Dismiss";
    close.addEventListener("click", function () {
      box.remove();
    });
    box.appendChild(close);
    toasts.appendChild(box);
    while (toasts.children.length > MAX_TOASTS) {
      toasts.removeChild(toasts.firstChild);
    }
    window.setTimeout(function () {
      box.remove();
    }, TOAST_MS);
  }

  function stop() {
    stopped = true;
    stopPolling();
    if (retryTimer) {
      window.clearTimeout(retryTimer);
      retryTimer = null;
    }
  }

  function poll() {
    var url = link.getAttribute("data-count-url");
    window
      .fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 401) {
          stop(); // signed out meanwhile
          return null;
        }
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (data && typeof data.unread === "number") {
          setCount(data.unread);
        }
      })
      .catch(function () {
        /* offline: the next poll tries again */
      });
  }

  function startPolling() {
    if (!pollTimer && !stopped) {
      pollTimer = window.setInterval(poll, POLL_MS);
    }
  }

  function stopPolling() {
    if (pollTimer) {
      window.clearInterval(pollTimer);
      pollTimer = null;
    }
  }

  function retryLater() {
    if (stopped || retryTimer) {
      return;
    }
    var pause = retryMs * (0.75 + Math.random() / 2);
    retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    retryTimer = window.setTimeout(function () {
      retryTimer = null;
      connect();
    }, pause);
  }

  function onMessage(event) {
    var message;
    try {
      message = JSON.parse(event.data);
    } catch (error) {
      return;
    }
    if (!message) {
      return;
    }
    if (message.type === "unread") {
      setCount(message.unread);
    } else if (message.type === "notification") {
      toast(message.notification);
    }
  }

  function connect() {
    if (stopped) {
      return;
    }
    if (typeof window.WebSocket !== "function") {
      startPolling();
      return;
    }
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    try {
      socket = new window.WebSocket(scheme + window.location.host + link.getAttribute("data-socket"));
    } catch (error) {
      socket = null;
      startPolling();
      retryLater();
      return;
    }
    socket.addEventListener("open", function () {
      retryMs = FIRST_RETRY_MS;
      stopPolling();
      document.documentElement.setAttribute("data-live-notifications", "open");
    });
    socket.addEventListener("message", onMessage);
    socket.addEventListener("close", function (event) {
      socket = null;
      document.documentElement.setAttribute("data-live-notifications", "polling");
      if (event.code === ACCESS_ENDED) {
        stop();
        return;
      }
      poll();
      startPolling();
      retryLater();
    });
  }

  // The notifications page: following an unread item's link marks it read (the API, with the
  // page's CSRF token); without this script the item's "Mark as read" button does the same.
  var list = document.getElementById("notification-list");
  var csrf = document.getElementById("notification-csrf");
  if (list && csrf) {
    list.addEventListener("click", function (event) {
      var target = event.target;
      var anchor = target && target.closest ? target.closest("a.notification-link") : null;
      var item = anchor ? anchor.closest("li[data-read-url]") : null;
      if (!item) {
        return;
      }
      window.fetch(item.getAttribute("data-read-url"), {
        method: "POST",
        credentials: "same-origin",
        keepalive: true,
        headers: { "X-CSRF-Token": csrf.getAttribute("data-token"), Accept: "application/json" },
      });
      item.removeAttribute("data-read-url");
    });
  }

  window.addEventListener("pagehide", function () {
    stop();
    if (socket) {
      socket.close(1000);
    }
  });

  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      // Back from the page cache: the count may be old and the socket is gone.
      stopped = false;
      retryMs = FIRST_RETRY_MS;
      poll();
      connect();
    }
  });

  connect();
})();
