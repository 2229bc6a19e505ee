/* ReDoc's bundle draws its vendor's logo from a CDN; this page fetches nothing from another host.
   Loaded before the bundle: an <img> pointed at that CDN gets the local favicon instead. */
(function () {
  "use strict";
  var outside = "https://cdn.redoc.ly/";
  var local = document.currentScript.dataset.logo;
  var setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    if (this.tagName === "IMG" && name === "src" && String(value).indexOf(outside) === 0) value = local;
    return setAttribute.call(this, name, value);
  };
  var source = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
  Object.defineProperty(HTMLImageElement.prototype, "src", {
    get: source.get,
    set: function (value) { source.set.call(this, String(value).indexOf(outside) === 0 ? local : value); },
    configurable: true
  });
})();
