/*! Madoguchi: background saving of a draft form (progressive enhancement).
 *
 * A form with `data-autosave="<url>"` is saved in the background two seconds after the user
 * stops typing: the fields are posted (as the save button would post them) to that URL,
 * which answers `{"saved_at": "HH:MM", "lock_version": n}`. The new lock_version is written
 * into every `lock_version` input of the page, so the next save (background or button) is
 * accepted. The status element named by `data-autosave-status` says
 * 「自動保存しました HH:MM」. Without JavaScript nothing changes: the save button works. */
(function () {
  "use strict";
  var DELAY_MS = 2000;

  function setup(form) {
    var url = form.getAttribute("data-autosave");
    var status = document.getElementById(form.getAttribute("data-autosave-status") || "");
    var timer = null;
    var inFlight = false;
    var again = false;
    var stopped = false;
    var pendingSubmit = null;

    function say(text) {
      if (!status) return;
      status.hidden = false;
      status.textContent = text;
    }

    function body() {
      var params = new URLSearchParams();
      new FormData(form).forEach(function (value, key) {
        if (typeof value === "string") params.append(key, value);
      });
      return params;
    }

    function finished() {
      inFlight = false;
      if (pendingSubmit) {
        var submitter = pendingSubmit;
        pendingSubmit = null;
        resubmit(submitter);
      } else if (again && !stopped) {
        again = false;
        save();
      }
    }

    function save() {
      if (stopped) return;
      if (inFlight) {
        again = true;
        return;
      }
      inFlight = true;
      fetch(url, {
        method: "POST",
        body: body(),
        credentials: "same-origin",
        headers: { Accept: "application/json" }
      })
        .then(function (r) {
          return r.json().then(
            function (j) { return { status: r.status, json: j }; },
            function () { return { status: r.status, json: {} }; }
          );
        })
        .then(function (r) {
          if (r.status === 200 && r.json.lock_version !== undefined) {
            var locks = document.querySelectorAll('input[name="lock_version"]');
            for (var i = 0; i < locks.length; i++) locks[i].value = String(r.json.lock_version);
            say("自動保存しました " + r.json.saved_at);
          } else if (r.status === 409) {
            stopped = true;
            say((r.json.error || "ほかの画面で保存されました。") +
              "（自動保存を止めました。画面を開き直してください。）");
          } else {
            say("自動保存できませんでした。「入力内容を保存する」を押して保存してください。");
          }
        })
        .catch(function () {
          say("自動保存できませんでした（通信できません）。「入力内容を保存する」を押して保存してください。");
        })
        .then(finished);
    }

    function schedule() {
      if (stopped || pendingSubmit) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(function () { timer = null; save(); }, DELAY_MS);
    }

    /* Submits with the button the user pressed (its name and value included). */
    function resubmit(submitter) {
      stopped = true;
      if (typeof form.requestSubmit === "function") {
        form.requestSubmit(submitter || undefined);
        return;
      }
      if (submitter && submitter.name) {
        var hidden = document.createElement("input");
        hidden.type = "hidden";
        hidden.name = submitter.name;
        hidden.value = submitter.value;
        form.appendChild(hidden);
      }
      form.submit();
    }

    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
    form.addEventListener("submit", function (e) {
      if (timer) {
        clearTimeout(timer);
        timer = null;
      }
      if (inFlight && !stopped) {
        // Wait for the background save: its new lock_version must go with this post.
        e.preventDefault();
        pendingSubmit = e.submitter || null;
        return;
      }
      stopped = true;
    });
  }

  function init() {
    var forms = document.querySelectorAll("form[data-autosave]");
    for (var i = 0; i < forms.length; i++) setup(forms[i]);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
