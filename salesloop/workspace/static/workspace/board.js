/* Pipeline board: native HTML5 drag and drop (or the card's ⇄ button) → POST /board/move/.
 *
 * The server decides: 200 → the card is redrawn with its new version and the stage totals are
 * updated; 409 → someone else changed the deal, the card snaps to where it really is now with
 * current data and a message says so; 403/404/422 → the card goes back where it was. Moving to
 * a lost stage first asks for a loss reason. No library, no CDN.
 */
(function () {
  "use strict";

  var board = document.getElementById("board");
  if (!board) { return; }
  var moveUrl = board.dataset.moveUrl;
  var message = document.getElementById("board-message");
  var dialog = document.getElementById("move-dialog");
  var dragging = null;
  var pendingDialog = null;

  function csrfToken() {
    try {
      var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
      if (headers["X-CSRFToken"]) { return headers["X-CSRFToken"]; }
    } catch (e) { /* fall through to the cookie */ }
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function root() { return board.querySelector(".sl-board"); }

  function showMessage(text, kind) {
    if (!message) { return; }
    message.textContent = text;
    message.className = "alert alert-" + kind;
  }

  function hideMessage() {
    if (message) { message.className = "alert d-none"; message.textContent = ""; }
  }

  function columnOf(stageId) {
    return board.querySelector('.sl-column[data-stage-id="' + stageId + '"]');
  }

  function bodyOf(column) { return column ? column.querySelector("[data-dropzone]") : null; }

  function originOf(card) { return { body: card.parentNode, next: card.nextElementSibling }; }

  function snapBack(card, origin) {
    if (origin.next && origin.next.parentNode === origin.body) {
      origin.body.insertBefore(card, origin.next);
    } else {
      origin.body.appendChild(card);
    }
  }

  function replaceCard(card, html, stageId) {
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    var fresh = holder.firstElementChild;
    var target = bodyOf(columnOf(stageId));
    if (!target) { card.remove(); return null; }
    if (card.parentNode !== target) { target.insertBefore(card, target.firstElementChild); }
    card.replaceWith(fresh);
    return fresh;
  }

  function updateTotals(totals) {
    if (!totals) { return; }
    Object.keys(totals).forEach(function (stageId) {
      var column = columnOf(stageId);
      if (!column) { return; }
      column.querySelector("[data-total-count]").textContent = totals[stageId].count;
      column.querySelector("[data-total-amount]").textContent = totals[stageId].amount;
    });
  }

  function filterParams(params) {
    var form = document.getElementById("board-filters");
    if (!form) { return; }
    new FormData(form).forEach(function (value, key) {
      if (key !== "csrfmiddlewaretoken") { params.append(key, value); }
    });
  }

  function move(card, stageId, origin, extra) {
    var params = new URLSearchParams();
    params.append("opportunity_id", card.dataset.dealId);
    params.append("stage_id", stageId);
    params.append("version", card.dataset.version);
    Object.keys(extra || {}).forEach(function (k) { params.append(k, extra[k]); });
    filterParams(params);
    card.classList.add("sl-pending");
    return fetch(moveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Content-Type": "application/x-www-form-urlencoded" },
      body: params.toString()
    }).then(function (response) {
      return response.json().then(function (data) { return { status: response.status, data: data }; });
    }).then(function (result) {
      var data = result.data;
      card.classList.remove("sl-pending");
      if (result.status === 200) {
        replaceCard(card, data.card, data.stage_id);
        updateTotals(data.totals);
        hideMessage();
        return;
      }
      if (result.status === 409) {
        var fresh = data.card ? replaceCard(card, data.card, data.stage_id) : null;
        if (fresh) { fresh.classList.add("sl-flash"); }
        updateTotals(data.totals);
        showMessage(data.message || root().dataset.msgConflict, "warning");
        return;
      }
      snapBack(card, origin);
      if (data.card) { replaceCard(card, data.card, data.stage_id); }
      showMessage(data.message || root().dataset.msgFailed, "danger");
    }).catch(function () {
      card.classList.remove("sl-pending");
      snapBack(card, origin);
      showMessage(root().dataset.msgFailed, "danger");
    });
  }

  // ----------------------------------------------------------------- the move dialog
  var stageSelect = document.getElementById("move-stage");
  var lossFields = dialog ? dialog.querySelector("[data-loss-fields]") : null;
  var lossReason = document.getElementById("move-loss-reason");
  var lossNote = document.getElementById("move-loss-note");
  var dialogError = dialog ? dialog.querySelector("[data-move-error]") : null;

  function selectedIsLost() {
    var option = stageSelect.options[stageSelect.selectedIndex];
    return option && option.dataset.lost === "1";
  }

  function syncLossFields() {
    lossFields.hidden = !selectedIsLost();
    lossReason.required = selectedIsLost();
  }

  function openDialog(card, stageId, origin) {
    pendingDialog = { card: card, origin: origin };
    stageSelect.value = String(stageId);
    lossReason.value = "";
    lossNote.value = "";
    dialogError.hidden = true;
    dialog.querySelector("[data-move-deal]").textContent = card.querySelector("a").textContent;
    syncLossFields();
    dialog.showModal();
    (selectedIsLost() ? lossReason : stageSelect).focus();
  }

  function closeDialog(apply) {
    var pending = pendingDialog;
    pendingDialog = null;
    dialog.close();
    if (!pending) { return; }
    if (!apply) { snapBack(pending.card, pending.origin); return; }
    var stageId = stageSelect.value;
    if (stageId === pending.card.dataset.stageId) { snapBack(pending.card, pending.origin); return; }
    var extra = selectedIsLost() ? { loss_reason_id: lossReason.value, loss_note: lossNote.value } : {};
    var target = bodyOf(columnOf(stageId));
    if (target && pending.card.parentNode !== target) { target.insertBefore(pending.card, target.firstElementChild); }
    move(pending.card, stageId, pending.origin, extra);
  }

  if (dialog) {
    stageSelect.addEventListener("change", syncLossFields);
    dialog.querySelector("form").addEventListener("submit", function (event) {
      event.preventDefault();
      if (selectedIsLost() && !lossReason.value) {
        dialogError.textContent = dialog.dataset.msgReason;
        dialogError.hidden = false;
        lossReason.focus();
        return;
      }
      closeDialog(true);
    });
    dialog.querySelector("[data-move-cancel]").addEventListener("click", function () { closeDialog(false); });
    dialog.addEventListener("cancel", function (event) { event.preventDefault(); closeDialog(false); });
  }

  function request(card, stageId, origin) {
    var column = columnOf(stageId);
    if (column && column.dataset.lost === "1") {
      openDialog(card, stageId, origin);
      return;
    }
    move(card, stageId, origin, {});
  }

  // ----------------------------------------------------------------- drag and drop
  board.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".sl-card[draggable='true']");
    if (!card) { return; }
    dragging = { card: card, origin: originOf(card) };
    card.classList.add("sl-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.dealId);
  });

  board.addEventListener("dragend", function () {
    if (dragging) { dragging.card.classList.remove("sl-dragging"); }
    board.querySelectorAll(".sl-drop-target").forEach(function (el) { el.classList.remove("sl-drop-target"); });
    dragging = null;
  });

  board.addEventListener("dragover", function (event) {
    if (!dragging) { return; }
    var column = event.target.closest && event.target.closest(".sl-column");
    if (!column) { return; }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    board.querySelectorAll(".sl-drop-target").forEach(function (el) {
      if (el !== bodyOf(column)) { el.classList.remove("sl-drop-target"); }
    });
    var body = bodyOf(column);
    if (body) { body.classList.add("sl-drop-target"); }
  });

  board.addEventListener("drop", function (event) {
    if (!dragging) { return; }
    var column = event.target.closest && event.target.closest(".sl-column");
    if (!column) { return; }
    event.preventDefault();
    var card = dragging.card;
    var origin = dragging.origin;
    card.classList.remove("sl-dragging");
    bodyOf(column).classList.remove("sl-drop-target");
    dragging = null;
    if (column.dataset.stageId === card.dataset.stageId) { return; }
    var body = bodyOf(column);
    body.insertBefore(card, body.firstElementChild);
    request(card, column.dataset.stageId, origin);
  });

  // The ⇄ button: the same move without a mouse (keyboard, touch screens).
  board.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-move-open]");
    if (!button) { return; }
    var card = button.closest(".sl-card");
    openDialog(card, card.dataset.stageId, originOf(card));
  });
})();
