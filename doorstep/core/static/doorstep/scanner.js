// Scanner pages: a hardware scanner types the code and Enter, which submits the form through
// htmx; the field is cleared and focused again for the next scan, also after htmx has swapped
// the form for a fresh one. Where the browser has BarcodeDetector, a camera button reads QR and
// barcodes into the same field.
(() => {
  const codeField = () => document.querySelector("form[data-scanner] input[name=code]");
  const ready = () => {
    const input = codeField();
    if (input) {
      input.value = "";
      input.focus();
    }
    const button = document.querySelector("form[data-scanner] [data-camera]");
    if (button && "BarcodeDetector" in window && navigator.mediaDevices) button.hidden = false;
  };
  document.addEventListener("htmx:afterSwap", ready);
  document.addEventListener("htmx:afterRequest", (event) => {
    if (event.target instanceof Element && event.target.closest("form[data-scanner]")) ready();
  });
  document.addEventListener("click", async (event) => {
    const button = event.target instanceof Element ? event.target.closest("[data-camera]") : null;
    if (!button) return;
    const form = button.closest("form[data-scanner]");
    const video = form.querySelector("[data-camera-view]");
    const detector = new window.BarcodeDetector({ formats: ["qr_code", "code_128"] });
    const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    video.srcObject = stream;
    video.hidden = false;
    await video.play();
    let last = "";
    const tick = async () => {
      if (!video.isConnected || video.hidden) {
        stream.getTracks().forEach((track) => track.stop());
        return;
      }
      const found = await detector.detect(video).catch(() => []);
      if (found.length && found[0].rawValue !== last) {
        last = found[0].rawValue;
        codeField().value = last;
        form.requestSubmit();
        setTimeout(() => { last = ""; }, 2000);
      }
      requestAnimationFrame(tick);
    };
    tick();
  });
  ready();
})();
