// Small behaviours on top of server-rendered pages. Everything works without this file.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) window.print();
  });

  // Ctrl+Enter (or Cmd+Enter) sends the form being typed in: the intake console without the mouse.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    var form = event.target.form;
    if (!form) return;
    event.preventDefault();
    var submit = form.querySelector("button[type=submit]");
    if (submit) submit.click(); else form.requestSubmit();
  });

  // The fault level matters for faults only: hide it for other classes of call.
  function syncLevel(form) {
    var kind = form.querySelector("input[name=kind]:checked");
    var level = form.querySelector(".field-level");
    if (level) level.hidden = kind && kind.value !== "fault";
  }
  document.addEventListener("change", function (event) {
    if (event.target.name === "kind" && event.target.form) syncLevel(event.target.form);
  });
  document.querySelectorAll("form").forEach(syncLevel);
})();

// Live countdowns: <time data-countdown datetime="..."> shows the time left, or how late it is.
(function () {
  "use strict";
  var lang = document.documentElement.lang || "zh-Hans";
  var zh = lang.toLowerCase().indexOf("zh") === 0;
  function span(ms) {
    var minutes = Math.floor(Math.abs(ms) / 60000);
    var days = Math.floor(minutes / 1440), hours = Math.floor((minutes % 1440) / 60), mins = minutes % 60;
    if (zh) return (days ? days + "天" : "") + (days || hours ? hours + "小时" : "") + mins + "分";
    return (days ? days + "d " : "") + (days || hours ? hours + "h " : "") + mins + "m";
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("time[data-countdown]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("datetime"));
      if (isNaN(due)) return;
      var left = due - now;
      el.textContent = left >= 0 ? (zh ? "剩余 " : "") + span(left) + (zh ? "" : " left")
                                 : (zh ? "已超时 " : "") + span(left) + (zh ? "" : " overdue");
      el.classList.toggle("overdue", left < 0);
    });
  }
  tick();
  setInterval(tick, 30000);
  // Content swapped in place (a step, a comment) brings countdowns of its own.
  document.addEventListener("htmx:afterSettle", tick);
})();

// === intake (agent) ===
// Fields of one class of call only: the answer for a consultation, the ticket and engineer
// complained about for a complaint (on the portal too). The server ignores them for other classes.
(function () {
  "use strict";
  var ONLY = {
    ".field-answer": "consultation", ".answer-action": "consultation",
    ".field-about_ticket": "complaint", ".field-about_engineer": "complaint", ".field-fault_area": "fault"
  };
  function syncClass(form) {
    var kind = form.querySelector("input[name=kind]:checked");
    if (!kind) return;
    Object.keys(ONLY).forEach(function (selector) {
      form.querySelectorAll(selector).forEach(function (el) { el.hidden = kind.value !== ONLY[selector]; });
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.name === "kind" && event.target.form) syncClass(event.target.form);
  });
  // Every form with a class of call: the intake console and the portal's request.
  document.querySelectorAll("form").forEach(syncClass);

  // "/" focuses the caller search, unless the person is typing in a field.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    var search = document.getElementById("caller-query");
    if (!search) return;
    event.preventDefault();
    search.focus();
    search.select();
  });
})();

// === ticket list ===
// The list's filters are folded on phones and open on wider screens (the server opens them when
// the query was refused).
(function () {
  "use strict";
  var panel = document.querySelector("details[data-filter-panel]");
  if (panel && window.matchMedia("(min-width: 641px)").matches) panel.open = true;
})();

// === ticket page and my work (engineer) ===
// Steps and comments are posted with htmx and the ticket's content is swapped in place. A refused
// step (400 bad input, 409 changed meanwhile, 429 too many) carries the ticket as it is now with
// the reason: htmx 2 does not swap 4xx answers by itself, so they are let through here. Focus then
// moves to the message, so that a screen reader says what happened.
(function () {
  "use strict";
  var REFUSALS = [400, 409, 429];
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "ticket") return;
    if (REFUSALS.indexOf(event.detail.xhr.status) !== -1) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    var ticket = document.getElementById("ticket");
    if (!ticket || (event.detail.target !== ticket && event.detail.elt !== ticket)) return;
    var message = ticket.querySelector("[data-flash]");
    if (message) {
      message.focus({ preventScroll: true });
      message.scrollIntoView({ block: "center" });
    }
  });
})();

// === field work: photos, signature, printed report ===
// The customer's signature at departure: drawn with a finger or the mouse (pointer events) on a
// canvas, kept as a PNG data URL in the form's hidden field. Without this script the pad stays
// hidden and the typed name is the sign-off.
(function () {
  "use strict";
  function setUp(pad) {
    var field = pad.parentNode.querySelector("[data-signature-value]");
    var canvas = pad.querySelector("canvas");
    var context = null, drawing = false, drawn = false, last = null;
    if (!field || !canvas || !canvas.getContext || pad.hasAttribute("data-ready")) return;
    pad.setAttribute("data-ready", "");
    pad.hidden = false;

    // The canvas takes its size from the page (it may sit in a closed <details> until used);
    // resizing clears it, so what was drawn is painted back from the field.
    function fit() {
      var ratio = Math.min(window.devicePixelRatio || 1, 2);
      var width = canvas.clientWidth, height = canvas.clientHeight;
      if (!width || !height) return false;
      if (context && canvas.width === Math.round(width * ratio) && canvas.height === Math.round(height * ratio)) return true;
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
      context = canvas.getContext("2d");
      context.scale(ratio, ratio);
      context.lineWidth = 2.5;
      context.lineCap = "round";
      context.lineJoin = "round";
      context.strokeStyle = "#111";
      context.fillStyle = "#111";
      if (field.value) paint(field.value);
      return true;
    }
    function paint(value) {
      if (value.indexOf("data:image/png;base64,") !== 0) { field.value = ""; return; }
      var image = new Image();
      image.onload = function () { context.drawImage(image, 0, 0, canvas.clientWidth, canvas.clientHeight); drawn = true; };
      image.onerror = function () { field.value = ""; };
      image.src = value;
    }
    function point(event) {
      var box = canvas.getBoundingClientRect();
      return { x: event.clientX - box.left, y: event.clientY - box.top };
    }
    canvas.addEventListener("pointerdown", function (event) {
      if (!fit()) return;
      event.preventDefault();
      drawing = true;
      last = point(event);
      if (canvas.setPointerCapture) canvas.setPointerCapture(event.pointerId);
      context.beginPath();
      context.arc(last.x, last.y, 1.2, 0, 2 * Math.PI);
      context.fill();
      drawn = true;
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) return;
      var next = point(event);
      context.beginPath();
      context.moveTo(last.x, last.y);
      context.lineTo(next.x, next.y);
      context.stroke();
      last = next;
    });
    function end() {
      if (!drawing) return;
      drawing = false;
      if (drawn) field.value = canvas.toDataURL("image/png");
    }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    pad.querySelector("[data-signature-clear]").addEventListener("click", function () {
      if (context) context.clearRect(0, 0, canvas.width, canvas.height);
      field.value = "";
      drawn = false;
    });
    var details = pad.closest("details");
    if (details) details.addEventListener("toggle", function () { if (details.open) fit(); });
    window.addEventListener("resize", function () { if (drawn || field.value) { context = null; fit(); } });
    fit();
  }
  function setUpWithin(root) {
    if (root && root.querySelectorAll) root.querySelectorAll("[data-signature-pad]").forEach(setUp);
  }
  setUpWithin(document);
  // A form swapped in by htmx (a refused step shown again) gets its pad too.
  document.addEventListener("htmx:load", function (event) { setUpWithin(event.detail.elt); });
})();

// === portal (customer) ===
// The new request: the device list shows the chosen site's devices only (a device that no longer
// fits is cleared), and choosing a device first selects its site. The server checks the same.
(function () {
  "use strict";
  function follow(form) {
    var site = form.querySelector("select[name=site]");
    var device = form.querySelector("select[name=equipment]");
    if (!site || !device || !device.querySelector("option[data-site]")) return;
    function showSiteDevices() {
      Array.prototype.forEach.call(device.options, function (option) {
        var elsewhere = !!(site.value && option.dataset.site && option.dataset.site !== site.value);
        option.hidden = elsewhere;
        option.disabled = elsewhere;
      });
      var chosen = device.options[device.selectedIndex];
      if (chosen && chosen.disabled) device.value = "";
    }
    site.addEventListener("change", showSiteDevices);
    device.addEventListener("change", function () {
      var chosen = device.options[device.selectedIndex];
      if (chosen && chosen.dataset.site && site.value !== chosen.dataset.site) {
        site.value = chosen.dataset.site;
        showSiteDevices();
      }
    });
    showSiteDevices();
  }
  document.querySelectorAll("form.portal-request").forEach(follow);
})();

// === everyone: header, bell, notifications ===
