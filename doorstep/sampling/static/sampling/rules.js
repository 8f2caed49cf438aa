// The lane rules the page checks offline, from the data the server gives it (sampling/rules.py,
// page_data). Each function answers {value} or {code, message} exactly as the Python function
// of the same name answers a value or a Refusal; a browser test holds the two together on
// thousands of generated codes. Nothing here decides alone: the server has the last word.
(() => {
  const fill = (template, values) =>
    template.replace(/\{(\w+)\}/g, (whole, key) => (key in values ? String(values[key]) : whole));
  // Python counts characters by code point; so does [...text].
  const length = (text) => [...text].length;
  const cut = (text, limit) => (limit ? [...text].slice(0, limit).join("") : text);

  function make(data) {
    const words = data.messages;
    const idWords = data.residentId.messages;
    const refuse = (code, name, values = {}) => ({ code, message: fill(words[name], values) });
    const alphabet = data.personCode.alphabet;
    const value = new Map([...alphabet].map((ch, i) => [ch, i]));
    const workerBody = data.workerCode.body;
    const personBody = data.personCode.body;

    function normalise(raw) {
      const cleaned = [...raw.trim().toUpperCase()].filter((ch) => !data.personCode.separators.includes(ch));
      return cleaned.map((ch) => data.personCode.aliases[ch] || ch).join("");
    }
    function checkCharacter(body) {
      const n = alphabet.length;
      let total = 0;
      let double = true;
      const chars = [...body];
      for (let i = chars.length - 1; i >= 0; i -= 1) {
        const v = value.get(chars[i]) * (double ? 2 : 1);
        total += Math.floor(v / n) + (v % n);
        double = !double;
      }
      return alphabet[(n - (total % n)) % n];
    }
    function isValid(code, body = personBody) {
      const chars = [...code];
      if (chars.length !== body + 1 || chars.some((ch) => !value.has(ch))) return false;
      return checkCharacter(chars.slice(0, -1).join("")) === chars[chars.length - 1];
    }
    const display = (code) => (code.match(/.{1,3}/gu) || []).join("-");
    const hasLetter = (code) => /[A-Z]/.test(code);
    const matches = (pattern, text) => {
      try {
        return new RegExp(`^(?:${pattern})$`).test(text);
      } catch {
        return false;
      }
    };

    // core/idnumbers.py
    const idError = (reason, values = {}) => ({ error: fill(idWords[reason], values) });
    function residentId(raw) {
      const v = raw.trim().replace(/ /g, "").toUpperCase();
      if (/^[0-9](\.[0-9]+)?E\+?[0-9]+$/i.test(v)) return idError("scientific");
      if (v.endsWith(".0")) return idError("number");
      if (length(v) !== 18) return idError("length", { count: length(v) });
      if (!/^[0-9]{17}[0-9X]$/.test(v)) return idError("characters");
      const year = Number(v.slice(6, 10));
      const month = Number(v.slice(10, 12));
      const day = Number(v.slice(12, 14));
      const last = new Date(0);
      last.setUTCFullYear(year, month, 0);
      if (year < 1 || month < 1 || month > 12 || day < 1 || day > last.getUTCDate()) {
        return idError("date", { date: v.slice(6, 14) });
      }
      const sum = [...v.slice(0, 17)].reduce((s, d, i) => s + Number(d) * data.residentId.weights[i], 0);
      if (v[17] !== data.residentId.check[sum % 11]) return idError("check");
      return { value: v };
    }
    function document(kind, raw) {
      if (kind === data.residentId.kind) return residentId(raw);
      const v = raw.trim().replace(/[\s\-()（）]/g, "").toUpperCase();
      if (v.endsWith(".0") || /^[0-9](\.[0-9]+)?E\+?[0-9]+$/i.test(v)) return idError("document_number");
      if (!new RegExp(data.documents[kind].pattern).test(v)) return { error: data.documents[kind].hint };
      return { value: v };
    }
    function phone(raw) {
      let v = raw.trim().replace(/[\s\-()]/g, "");
      if (v.startsWith("+86")) v = v.slice(3);
      else if (v.startsWith("0086")) v = v.slice(4);
      if (v.endsWith(".0")) v = v.slice(0, -2);
      if (!/^[0-9]+$/.test(v)) return idError("phone_characters");
      if (v.length !== 11 || !v.startsWith("1")) return idError("phone_length", { count: length(v) });
      return { value: v };
    }

    // sampling/rules.py
    function text(raw, name, limit = 0) {
      if (typeof raw !== "string" || !raw.trim()) return refuse("invalid", "missing", { field: name });
      const v = raw.trim();
      if (v.includes("\u0000")) return refuse("invalid", "nul", { field: name });
      return { value: cut(v, limit) };
    }
    function barcode(raw, name) {
      const t = text(raw, name);
      return t.code ? t : { value: t.value.toUpperCase().replace(/ /g, "") };
    }
    function tubeCode(raw, pattern = data.barcode) {
      const b = barcode(raw, "tube");
      if (b.code) return b;
      const v = b.value;
      const code = normalise(v);
      let kind = "";
      if (residentId(v).value) kind = "kind_id";
      else if (isValid(code) && hasLetter(code)) kind = "kind_person";
      else if (isValid(code, workerBody) && hasLetter(code)) kind = "kind_worker";
      if (kind) return refuse("not_a_tube", "not_a_tube", { code: v, kind: words[kind] });
      if (!matches(pattern, v)) return refuse("invalid", "pattern", { code: v, pattern });
      return { value: v };
    }
    function personKey(raw, idType = "") {
      const t = text(raw, "person", 64);
      if (t.code) return t;
      const v = t.value;
      if (idType && idType !== data.residentId.kind) {
        if (!(idType in data.documents)) {
          return refuse("invalid", "id_type", { kinds: [data.residentId.kind, ...Object.keys(data.documents)].join(", ") });
        }
        const doc = document(idType, v);
        return doc.error ? { code: "bad_document", message: doc.error } : { value: doc.value, kind: "number" };
      }
      const normal = normalise(v);
      if (isValid(normal)) return { value: normal, kind: "code" };
      const squeezed = v.replace(/ /g, "").toUpperCase();
      if (/^[0-9]{17}[0-9X]$/.test(squeezed) || idType === data.residentId.kind) {
        const id = residentId(v);
        return id.error ? { code: "bad_id_number", message: id.error } : { value: id.value, kind: "number" };
      }
      if (isValid(normal, workerBody)) return refuse("worker_code", "worker", { code: normal });
      if (length(normal) === personBody + 1 && [...normal].every((ch) => value.has(ch))) {
        return refuse("bad_code", "bad_code", { code: display(normal) });
      }
      return refuse("not_a_person", "neither");
    }
    function personScan(raw, pattern, tube, n) {
      const key = personKey(raw);
      if (key.code === "not_a_person" && matches(pattern, barcode(raw, "person").value)) {
        return refuse("tube_still_open", "still_open", { code: tube, n });
      }
      return key;
    }
    function walkIn(fields) {
      const name = text(fields.name, "walk_in.name", 100);
      if (name.code) return name;
      const kind = fields.id_type || data.residentId.kind;
      if (kind !== data.residentId.kind && !(kind in data.documents)) {
        return refuse("invalid", "id_type", { kinds: [data.residentId.kind, ...Object.keys(data.documents)].join(", ") });
      }
      const number = text(fields.id_number, "walk_in.id_number");
      if (number.code) return number;
      const doc = document(kind, number.value);
      if (doc.error) return { code: "invalid", message: doc.error };
      let phoneNumber = "";
      if (fields.phone) {
        const p = phone(String(fields.phone));
        if (p.error) return { code: "invalid", message: p.error };
        phoneNumber = p.value;
      }
      let address = "";
      if (fields.address) {
        const a = text(fields.address, "walk_in.address", 200);
        if (a.code) return a;
        address = a.value;
      }
      return { value: { name: name.value, id_type: kind, id_number: doc.value, phone: phoneNumber, address } };
    }
    return { fill, normalise, isValid, display, matches, residentId, tubeCode, personKey, personScan, walkIn, barcode };
  }

  window.DoorstepRules = make;
})();
