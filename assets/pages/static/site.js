// sotaboard static site: the index page's search over window.SOTABOARD_SEARCH (search-index.js).
// Results are built with DOM methods and textContent only; links point at the site's own pages.
"use strict";
(function () {
  document.documentElement.dataset.scripts = "ran";
  var input = document.getElementById("search");
  var list = document.getElementById("search-results");
  var entries = window.SOTABOARD_SEARCH;
  if (!input || !list || !Array.isArray(entries)) return;
  var haystacks = entries.map(function (e) {
    return [e.name, e.key, e.detail].join(" ").toLowerCase();
  });
  var LIMIT = 25;

  function show() {
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    list.replaceChildren();
    if (!words.length) return;
    var shown = 0;
    for (var i = 0; i < entries.length && shown < LIMIT; i++) {
      if (!words.every(function (w) { return haystacks[i].indexOf(w) !== -1; })) continue;
      var item = document.createElement("li");
      item.className = "hit hit-" + entries[i].kind;
      var link = document.createElement("a");
      link.setAttribute("href", entries[i].path);
      link.textContent = entries[i].name;
      var meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = " " + entries[i].kind + " · " + entries[i].detail;
      item.append(link, meta);
      list.append(item);
      shown++;
    }
    if (!shown) {
      var none = document.createElement("li");
      none.className = "empty";
      none.textContent = "Nothing matches.";
      list.append(none);
    }
  }

  input.addEventListener("input", show);
  show();
})();
