// Keying a paper sheet with a wedge scanner: the scanner types a code and then Enter. In the
// one-line fields (the sheet number, the date, the time) Enter moves on to the sheet's text
// instead of sending the form half keyed; in the text it starts the next line, as it should.
// Below the text, a running count of the lines typed, so the keyer can compare with the sheet.
(() => {
  const form = document.querySelector("[data-paper-key]");
  if (!form) return;
  form.addEventListener("keydown", (event) => {
    const field = event.target;
    if (event.key !== "Enter" || !(field instanceof HTMLInputElement) || !field.dataset.next) return;
    event.preventDefault();
    const next = document.getElementById(field.dataset.next);
    if (next) next.focus();
  });
  const text = document.getElementById("paper-text");
  const tally = document.getElementById("paper-tally");
  if (!text || !tally) return;
  const count = () => {
    const lines = text.value.split("\n").filter((line) => line.trim() !== "").length;
    tally.textContent = (tally.dataset.template || "{n}").replace("{n}", String(lines));
  };
  text.addEventListener("input", count);
  count();
})();
