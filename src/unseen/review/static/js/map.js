/* Map of GPS items over an offline base layer (Natural Earth country outlines).
 * No tile layer: nothing is fetched from outside this server.
 * Points close together on screen are drawn as one circle with their count (a grid
 * of CELL pixels, recomputed at every zoom), so thousands of points stay readable;
 * "Show in the grid" lists the items inside the current view. */
(function () {
  "use strict";
  const el = document.getElementById("map");
  if (!el || !window.L) return;
  const L = window.L;
  const CELL = 40;
  const map = L.map(el, { preferCanvas: true, attributionControl: false, worldCopyJump: true, minZoom: 1, maxZoom: 18 });
  map.setView([20, 0], 2);
  const wanted = parseInt(new URLSearchParams(window.location.search).get("item") || "", 10);
  const layer = L.layerGroup().addTo(map);
  let points = [];

  fetch("/static/geo/world-110m.geojson", { credentials: "same-origin" })
    .then((r) => r.json())
    .then((world) => {
      L.geoJSON(world, { style: { color: "#7b8799", weight: 1, fillColor: "#f2efe6", fillOpacity: 1 }, interactive: false }).addTo(map);
    })
    .catch(() => {});

  function popup(group) {
    const box = document.createElement("div");
    group.slice(0, 20).forEach(([id, , , rev, kind]) => {
      const link = document.createElement("a");
      link.href = `/item/${id}`;
      link.textContent = `${kind} ${id}${rev ? " · " + rev : ""}`;
      box.appendChild(link);
      box.appendChild(document.createElement("br"));
    });
    if (group.length > 20) box.appendChild(document.createTextNode(`… and ${group.length - 20} more: zoom in or show in the grid`));
    return box;
  }

  function draw() {
    layer.clearLayers();
    const zoom = map.getZoom();
    const cells = new Map();
    points.forEach((p) => {
      const at = map.project([p[1], p[2]], zoom);
      const key = `${Math.floor(at.x / CELL)}:${Math.floor(at.y / CELL)}`;
      if (!cells.has(key)) cells.set(key, []);
      cells.get(key).push(p);
    });
    cells.forEach((group) => {
      const lat = group.reduce((s, p) => s + p[1], 0) / group.length;
      const lon = group.reduce((s, p) => s + p[2], 0) / group.length;
      const decided = group.every((p) => p[3]);
      const marker = L.circleMarker([lat, lon], {
        radius: group.length === 1 ? 6 : Math.min(22, 8 + 3 * Math.log2(group.length)),
        weight: 1, color: "#1d2330", fillColor: decided ? "#2456a6" : "#e0a100", fillOpacity: 0.8,
      });
      if (group.length > 1) marker.bindTooltip(String(group.length), { permanent: true, direction: "center", className: "map-count" });
      marker.bindPopup(popup(group));
      marker.addTo(layer);
      if (group.some((p) => p[0] === wanted)) marker.openPopup();
    });
  }

  // A box drawn with shift-drag (Leaflet's box zoom) is the area; else the whole view.
  let drawn = null;
  map.on("boxzoomend", (e) => {
    if (drawn) drawn.remove();
    drawn = L.rectangle(e.boxZoomBounds, { color: "#845", weight: 2, fill: false, interactive: false }).addTo(map);
  });

  document.getElementById("map-to-grid").addEventListener("click", () => {
    const b = drawn ? drawn.getBounds() : map.getBounds();
    const whole = b.getEast() - b.getWest() >= 360;
    const west = whole ? -180 : ((b.getWest() + 540) % 360) - 180;
    const east = whole ? 180 : ((b.getEast() + 540) % 360) - 180;
    const south = Math.max(-90, b.getSouth());
    const north = Math.min(90, b.getNorth());
    const area = [south, west, north, east].map((v) => v.toFixed(5)).join(",");
    window.location.href = `/grid?area=${encodeURIComponent(area)}`;
  });

  fetch("/api/map-points", { credentials: "same-origin" })
    .then((r) => r.json())
    .then((data) => {
      points = data.points || [];
      const videos = points.filter((p) => p[4] === "video").length;
      document.getElementById("map-count").textContent = `(${points.length} items with GPS, ${videos} of them videos)`;
      const target = points.find((p) => p[0] === wanted);
      if (target) map.setView([target[1], target[2]], 10);
      else if (points.length) map.fitBounds(points.map((p) => [p[1], p[2]]), { maxZoom: 10, padding: [20, 20] });
      draw();
      map.on("zoomend", draw);
    })
    .catch(() => {});
})();
