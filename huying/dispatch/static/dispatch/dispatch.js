// "Use my location": the browser's Geolocation API returns WGS-84, which is what intake expects.
(function () {
  var btn = document.getElementById("locate-btn");
  if (!btn) return;
  var status = document.getElementById("locate-status");
  var lng = document.getElementById("id_lng");
  var lat = document.getElementById("id_lat");
  btn.addEventListener("click", function () {
    if (!navigator.geolocation) { status.textContent = btn.dataset.unsupported; return; }
    status.textContent = btn.dataset.locating;
    btn.disabled = true;
    navigator.geolocation.getCurrentPosition(function (pos) {
      lng.value = pos.coords.longitude.toFixed(7);
      lat.value = pos.coords.latitude.toFixed(7);
      status.textContent = btn.dataset.done + " (±" + Math.round(pos.coords.accuracy) + " m)";
      btn.disabled = false;
    }, function () {
      status.textContent = btn.dataset.denied;
      btn.disabled = false;
    }, {enableHighAccuracy: true, timeout: 10000, maximumAge: 60000});
  });
})();
