// The campaign view's redraw: when the live panel (refreshed by console.js) carries a new version, fetch the figures'
// HTML (server-rendered, parsed, never evaluated), swap it in and load each figure's drawing script from the broker.
"use strict";
(function () {
  const parser = new DOMParser();
  let busy = false;
  async function check() {
    const live = document.getElementById("campaign-live");
    const figures = document.getElementById("campaign-figures");
    if (busy || !live || !figures || live.dataset.version === figures.dataset.version) return;
    busy = true;
    try {
      const r = await fetch("/ui/campaign/figures", { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (r.redirected || !r.ok) return;
      const fresh = parser.parseFromString(await r.text(), "text/html").getElementById("campaign-figures");
      if (!fresh) return;
      const section = document.importNode(fresh, true);
      figures.replaceWith(section);
      // imported scripts do not run: each is replaced by a new element loading the same script from the broker, at the
      // same place (right after the element it draws into)
      section.querySelectorAll("script[src]").forEach(function (old) {
        const script = document.createElement("script");
        script.src = old.getAttribute("src");
        old.replaceWith(script);
      });
    } catch (e) {
      // the broker is restarting or the network is down: try again at the next tick
    } finally {
      busy = false;
    }
  }
  setInterval(check, 1000);
})();
