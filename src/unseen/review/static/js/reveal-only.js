/* Pages whose tiles only open items (leads): "r" reveals the focused tile. */
(function () {
  "use strict";
  document.querySelectorAll(".tile[data-href]").forEach((tile) => {
    tile.addEventListener("focus", () => { tile.classList.add("focused"); });
    tile.addEventListener("blur", () => { tile.classList.remove("focused"); });
  });
})();
