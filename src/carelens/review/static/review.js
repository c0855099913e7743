// carelens clinician review: save each answer as it is given, keyboard shortcuts, live progress.
(function () {
  "use strict";
  const form = document.getElementById("rating-form");
  if (!form) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const itemId = form.dataset.itemId;
  const required = Number(form.dataset.required);
  const status = document.getElementById("save-status");
  const questions = Array.from(form.querySelectorAll("fieldset.question"));
  let active = Math.max(0, questions.findIndex((q) => !q.querySelector("input:checked")));
  let pending = 0;
  let queue = Promise.resolve(); // answers are sent one after another, so the last one given wins

  function setStatus(text, state) {
    status.textContent = text;
    status.dataset.state = state;
  }

  function save(question, value) {
    pending += 1;
    setStatus("Saving…", "saving");
    queue = queue.then(() => send(question, value));
  }

  async function send(question, value) {
    try {
      const response = await fetch("/api/answer", {
        method: "POST",
        credentials: "same-origin",
        keepalive: true,
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ item_id: itemId, question: question, value: value }),
      });
      if (!response.ok) throw new Error("HTTP " + response.status);
      const data = await response.json();
      pending -= 1;
      if (pending === 0) setStatus("Saved", "saved");
      document.getElementById("complete-count").textContent = data.complete;
      document.getElementById("progress-bar").value = data.complete;
      const cell = document.querySelector(".strip .cell.current");
      if (cell) {
        cell.classList.toggle("done", data.item_answered === required);
        cell.classList.toggle("part", data.item_answered > 0 && data.item_answered < required);
      }
    } catch (err) {
      pending -= 1;
      setStatus("Not saved (" + err.message + "). Check your connection and answer again.", "error");
    }
  }

  function activate(index) {
    if (!questions.length) return;
    active = Math.min(Math.max(index, 0), questions.length - 1);
    questions.forEach((q, i) => q.classList.toggle("active", i === active));
    const box = questions[active].getBoundingClientRect();
    if (box.top < 70 || box.bottom > window.innerHeight) {
      questions[active].scrollIntoView({ block: "nearest", behavior: "smooth" });
    }
  }

  form.addEventListener("change", (event) => {
    const target = event.target;
    if (target.type !== "radio") return;
    target.closest("fieldset").classList.add("answered");
    save(target.name, target.value);
  });

  const comment = document.getElementById("COMMENT");
  let timer = null;
  let savedComment = comment.value;
  function saveComment() {
    clearTimeout(timer);
    if (comment.value !== savedComment) {
      savedComment = comment.value;
      save("COMMENT", comment.value);
    }
  }
  comment.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(saveComment, 700); });
  comment.addEventListener("blur", saveComment);

  questions.forEach((q, i) => q.addEventListener("click", () => activate(i)));

  function choose(fieldset, key) {
    const input = fieldset && fieldset.querySelector('input[data-key="' + key + '"]');
    if (!input) return false;
    input.click();
    return true;
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const tag = event.target.tagName;
    if (tag === "TEXTAREA" || (tag === "INPUT" && event.target.type !== "radio")) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    const key = event.key.toLowerCase();
    const guess = form.querySelector('fieldset[data-question="AI_GUESS"]');
    let handled = true;
    if (key === "arrowdown" || key === "j") activate(active + 1);
    else if (key === "arrowup" || key === "k") activate(active - 1);
    else if (key === "arrowright" || key === "enter") form.querySelector("button.next").click();
    else if (key === "arrowleft") { const prev = form.querySelector("button.prev"); if (!prev.disabled) prev.click(); }
    else if (key === "a" || key === "p") choose(guess, key);
    else if (key === "c") comment.focus();
    else if (/^[0-5n]$/.test(key)) {
      if (choose(questions[active], key)) activate(active + 1);
    } else handled = false;
    if (handled) event.preventDefault();
  });

  // Leaving the page (the form itself also posts every answer when it is submitted).
  window.addEventListener("pagehide", saveComment);

  activate(active);
})();
