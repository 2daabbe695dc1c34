// The organizers' live leaderboard (templates/judging/leaderboard.html) and its projector view
// (templates/judging/projector.html): follows the API's server-sent events and re-renders the
// table body on each `leaderboard` event. Rows are built with textContent only, never markup
// from the data. The section's data-columns names the columns in order (default: rank,
// project, score, raw_mean, evaluations) and data-limit how many rows to show (default: all
// the stream sends). A static file because the page's Content-Security-Policy allows scripts
// from this site only (no inline script).
(function () {
  "use strict";

  var section = document.getElementById("live-leaderboard");
  if (!section || typeof window.EventSource !== "function") {
    return; // the server-rendered table stays: reload for newer scores
  }
  var tbody = section.querySelector("#leaderboard tbody");
  var statusEl = document.getElementById("leaderboard-status");
  var updatedEl = document.getElementById("leaderboard-updated");
  var summaryEl = document.getElementById("leaderboard-summary");
  var source = null;
  var columns = (section.getAttribute("data-columns") || "rank,project,score,raw_mean,evaluations")
    .split(",");
  var limit = Number(section.getAttribute("data-limit")) || 0;

  function setStatus(text, kind) {
    // Only on a change: the region is aria-live, each change is announced.
    if (statusEl.textContent !== text) {
      statusEl.textContent = text;
    }
    statusEl.className = "badge" + (kind ? " badge-" + kind : "");
    statusEl.setAttribute("data-state", kind || "");
  }

  function one(value) {
    var number = Number(value);
    return isFinite(number) ? number.toFixed(1) : "";
  }

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  var fill = {
    rank: function (tr, item) {
      cell(tr, String(item.rank));
    },
    project: function (tr, item) {
      var project = cell(tr, (item.title || "Untitled") + " ");
      var team = document.createElement("span");
      team.className = "muted";
      team.textContent = "· " + (item.team_name || "");
      project.appendChild(team);
    },
    score: function (tr, item) {
      cell(tr, one(item.score));
    },
    raw_mean: function (tr, item) {
      cell(tr, one(item.raw_mean));
    },
    evaluations: function (tr, item) {
      cell(tr, String(item.evaluations));
    },
  };

  function render(board) {
    var items = Array.isArray(board.items) ? board.items : [];
    if (limit > 0) {
      items = items.slice(0, limit);
    }
    var rows = [];
    items.forEach(function (item) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-submission", String(item.submission_id));
      columns.forEach(function (name) {
        if (fill[name]) {
          fill[name](tr, item);
        }
      });
      rows.push(tr);
    });
    if (!rows.length) {
      var empty = document.createElement("tr");
      empty.className = "empty-row";
      var td = cell(empty, "No submitted evaluations yet.");
      td.colSpan = columns.length;
      td.className = "empty";
      rows.push(empty);
    }
    tbody.replaceChildren.apply(tbody, rows);

    var ranked = Number(board.ranked) || 0;
    var summary = ranked + (ranked === 1 ? " project" : " projects") + " ranked";
    if (ranked > items.length) {
      summary += "; the top " + items.length + " shown";
    }
    summaryEl.textContent = summary + ".";

    // As the server writes times: UTC, to the second.
    var now = new Date();
    var time = document.createElement("time");
    time.dateTime = now.toISOString();
    time.textContent = now.toISOString().slice(0, 19).replace("T", " ") + " UTC";
    updatedEl.replaceChildren(time);
    section.setAttribute("data-version", String(board.version));
  }

  function connect() {
    setStatus("Connecting…", "warn");
    source = new EventSource(section.getAttribute("data-stream"));
    source.addEventListener("open", function () {
      setStatus("Live", "ok");
    });
    source.addEventListener("leaderboard", function (event) {
      var board;
      try {
        board = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      render(board);
      setStatus("Live", "ok");
    });
    source.addEventListener("closed", function () {
      // The server ended the stream: access to this board ended (signed out, role removed).
      source.close();
      setStatus("Disconnected: reload the page", "err");
    });
    source.addEventListener("error", function () {
      if (source.readyState === EventSource.CLOSED) {
        // Refused (signed out, no longer an organizer) or gone: the browser stops retrying.
        setStatus("Disconnected: reload the page", "err");
      } else {
        setStatus("Reconnecting…", "warn");
      }
    });
  }

  // Leaving the page closes the stream at once (and lets the page enter the back/forward cache).
  window.addEventListener("pagehide", function () {
    if (source) {
      source.close();
      source = null;
    }
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && !source) {
      connect();
    }
  });
  connect();
})();
