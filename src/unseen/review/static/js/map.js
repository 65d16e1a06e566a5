/* Map of GPS items over an offline base layer (Natural Earth country outlines).
 * No tile layer: nothing is fetched from outside this server. */
(function () {
  "use strict";
  const el = document.getElementById("map");
  if (!el || !window.L) return;
  const L = window.L;
  const map = L.map(el, { preferCanvas: true, attributionControl: false, worldCopyJump: true, minZoom: 1, maxZoom: 18 });
  map.setView([20, 0], 2);
  const wanted = parseInt(new URLSearchParams(window.location.search).get("item") || "", 10);

  fetch("/static/geo/world-110m.geojson", { credentials: "same-origin" })
    .then((r) => r.json())
    .then((world) => {
      L.geoJSON(world, { style: { color: "#7b8799", weight: 1, fillColor: "#f2efe6", fillOpacity: 1 }, interactive: false }).addTo(map);
    })
    .catch(() => {});

  fetch("/api/map-points", { credentials: "same-origin" })
    .then((r) => r.json())
    .then((data) => {
      const points = data.points || [];
      document.getElementById("map-count").textContent = `(${points.length} items with GPS)`;
      const bounds = [];
      points.forEach(([id, lat, lon, rev]) => {
        const marker = L.circleMarker([lat, lon], {
          radius: 6, weight: 1, color: "#1d2330", fillColor: rev ? "#2456a6" : "#e0a100", fillOpacity: 0.8,
        });
        const link = document.createElement("a");
        link.href = `/item/${id}`;
        link.textContent = `item ${id}${rev ? " · " + rev : ""}`;
        marker.bindPopup(link);
        marker.addTo(map);
        bounds.push([lat, lon]);
        if (id === wanted) {
          map.setView([lat, lon], 10);
          marker.openPopup();
        }
      });
      if (bounds.length && Number.isNaN(wanted)) map.fitBounds(bounds, { maxZoom: 10, padding: [20, 20] });
    })
    .catch(() => {});
})();
