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
})();
