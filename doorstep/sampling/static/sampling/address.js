// The address picker: building, then unit, then room, from the community's own list that the
// page holds (so it works without signal). A full choice writes the address into the form's
// address field as the server traces it ("3号楼1单元3202"); typing into the field stays possible.
(function () {
  "use strict";
  function fill(select, values) {
    select.length = 1;
    values.forEach(function (v) { select.add(new Option(v, v)); });
    select.disabled = values.length === 0;
  }
  function picker(box) {
    var book = JSON.parse(document.getElementById(box.dataset.addressBook).textContent);
    var field = document.getElementById(box.dataset.field);
    var building = box.querySelector("[data-part=building]");
    var unit = box.querySelector("[data-part=unit]");
    var room = box.querySelector("[data-part=room]");
    function units() {
      var found = book.find(function (b) { return b[0] === building.value; });
      return found ? found[1] : [];
    }
    function rooms() {
      var found = units().find(function (u) { return u[0] === unit.value; });
      return found ? found[1] : [];
    }
    fill(building, book.map(function (b) { return b[0]; }));
    building.addEventListener("change", function () {
      var names = units().map(function (u) { return u[0]; });
      fill(unit, names);
      if (names.length === 1) { unit.value = names[0]; }
      fill(room, rooms());
    });
    unit.addEventListener("change", function () { fill(room, rooms()); });
    room.addEventListener("change", function () {
      if (room.value) {
        field.value = building.value + unit.value + room.value;
        field.dispatchEvent(new Event("input", { bubbles: true }));
      }
    });
    box.hidden = false;
  }
  function start() {
    document.querySelectorAll("[data-address-book]").forEach(picker);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
