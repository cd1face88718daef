/* Readmit pages: a little progressive enhancement, no dependencies. Without JavaScript every
   page still works: countdowns stay as rendered, forms submit, the slider has a button. */
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");
  var lang = document.body.getAttribute("data-lang") || "en";

  /* --- countdowns: "in 3 days" ticking, in the deadline's own time zone -------------------- */
  var relative = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(lang, { numeric: "always" }) : null;

  function unitFor(seconds) {
    var s = Math.abs(seconds);
    if (s >= 2 * 86400) return ["day", 86400];
    if (s >= 2 * 3600) return ["hour", 3600];
    return ["minute", 60];
  }

  function tick() {
    if (!relative) return;
    var now = Date.now();
    document.querySelectorAll("time.countdown[datetime]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("datetime"));
      if (isNaN(due)) return;
      var seconds = (due - now) / 1000;
      var unit = unitFor(seconds);
      var value = seconds >= 0 ? Math.floor(seconds / unit[1]) : -Math.floor(-seconds / unit[1]);
      el.textContent = relative.format(value, unit[0]);
      var zone = el.getAttribute("data-zone");
      if (zone && !el.hasAttribute("data-titled")) {
        try {
          el.title = new Intl.DateTimeFormat(lang, {
            dateStyle: "medium", timeStyle: "short", timeZone: zone, timeZoneName: "short"
          }).format(new Date(due)) + " (" + zone + ")";
          el.setAttribute("data-titled", "");
        } catch (e) { /* an unknown zone: keep the server's text */ }
      }
    });
  }

  /* --- live updates of the dashboard: poll the rows, swap them when they changed ----------- */
  function poll(container) {
    var url = container.getAttribute("data-poll-url");
    var every = parseInt(container.getAttribute("data-poll-seconds") || "5", 10) * 1000;
    var status = document.getElementById("live-status");
    var busy = false;
    function once() {
      if (busy || document.hidden) return;
      busy = true;
      /* `since`: the rows this page shows; the server answers 204 while they are current */
      var since = (url.indexOf("?") < 0 ? "?" : "&") + "since=" + encodeURIComponent(container.getAttribute("data-digest") || "");
      fetch(url + since, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) {
          if (!response.ok || response.redirected) throw new Error("stopped");
          return response.status === 204 ? "" : response.text();
        })
        .then(function (html) {
          if (!html) return;
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(container.id);
          if (fresh && fresh.getAttribute("data-digest") !== container.getAttribute("data-digest")) {
            container.innerHTML = fresh.innerHTML;
            container.setAttribute("data-digest", fresh.getAttribute("data-digest"));
            tick();
            if (status) status.textContent = status.getAttribute("data-updated") + " " + new Date().toLocaleTimeString(lang);
          }
        })
        .catch(function () { window.clearInterval(timer); })
        .then(function () { busy = false; });
    }
    var timer = window.setInterval(once, every);
  }

  /* --- the auditor's as-of slider: replay without reloading the page ------------------------ */
  function slider(input) {
    var target = document.getElementById(input.getAttribute("data-target"));
    var url = input.getAttribute("data-replay-url");
    var output = document.getElementById(input.getAttribute("data-output"));
    var moments = [];
    try { moments = JSON.parse(input.getAttribute("data-moments") || "[]"); } catch (e) { moments = []; }
    var pending = null;
    function describe() {
      var m = moments[parseInt(input.value, 10) - 1];
      if (output && m) output.textContent = m.label;
    }
    function load() {
      var query = "?version=" + encodeURIComponent(input.value);
      fetch(url + query, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) { if (!response.ok) throw new Error(String(response.status)); return response.text(); })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(target.id);
          if (fresh) { target.innerHTML = fresh.innerHTML; }
          if (window.history && history.replaceState) history.replaceState(null, "", query);
        })
        .catch(function () { /* the button still works */ });
    }
    input.addEventListener("input", function () {
      describe();
      window.clearTimeout(pending);
      pending = window.setTimeout(load, 120);
    });
    describe();
  }

  /* --- selects that apply themselves (the language) -------------------------------------------- */
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  document.querySelectorAll("[data-poll-url]").forEach(poll);
  document.querySelectorAll("input[data-replay-url]").forEach(slider);
  tick();
  window.setInterval(tick, 30000);
})();
