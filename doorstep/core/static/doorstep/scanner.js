// Scanner pages: a hardware scanner types the code and Enter, which submits the form through
// htmx; the field is cleared and focused again for the next scan. Where the browser has
// BarcodeDetector, a camera button reads QR codes into the same field.
(() => {
  const form = document.querySelector("form[data-scanner]");
  if (!form) return;
  const input = form.querySelector("input[name=code]");
  form.addEventListener("htmx:afterRequest", () => {
    input.value = "";
    input.focus();
  });
  const button = form.querySelector("[data-camera]");
  const video = form.querySelector("[data-camera-view]");
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices) return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    const detector = new window.BarcodeDetector({ formats: ["qr_code", "code_128"] });
    const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    video.srcObject = stream;
    video.hidden = false;
    await video.play();
    let last = "";
    const tick = async () => {
      if (video.hidden) return;
      const found = await detector.detect(video).catch(() => []);
      if (found.length && found[0].rawValue !== last) {
        last = found[0].rawValue;
        input.value = last;
        form.requestSubmit();
        setTimeout(() => { last = ""; }, 2000);
      }
      requestAnimationFrame(tick);
    };
    tick();
  });
})();
