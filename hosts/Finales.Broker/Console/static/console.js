// The console's only script: refreshes [data-live] sections from their URL every two seconds, so live pages update
// without a reload. The server renders the fragment (every value HTML-encoded); it is parsed, never evaluated.
"use strict";
(function () {
  const parser = new DOMParser();
  async function refresh(section) {
    try {
      const r = await fetch(section.dataset.live, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (r.redirected || !r.ok) return;
      const doc = parser.parseFromString(await r.text(), "text/html");
      const fresh = doc.getElementById(section.id);
      if (fresh) section.replaceWith(document.importNode(fresh, true));
    } catch (e) {
      // the broker is restarting or the network is down: try again at the next tick
    }
  }
  setInterval(function () {
    document.querySelectorAll("[data-live]").forEach(refresh);
  }, 1000);
})();
