/* What the map pages' scripts share (web/map.js, insight/dashboard.js, sensing/emergency.js):
 * h(tag, attrs, text) builds an element with its text set safely (never as HTML), and
 * getJSON(url) fetches JSON with the session, throwing the server's message on an error status.
 * Loaded (deferred) before them: window.huyingDom = {h, getJSON}. */
(function () {
  "use strict";

  function h(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  async function getJSON(url) {
    const r = await fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}});
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(body.message || body.detail || r.statusText);
    return body;
  }

  window.huyingDom = {h, getJSON};
})();
