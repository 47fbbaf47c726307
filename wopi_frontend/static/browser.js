// The file browser: local times, confirmations, menus, and uploads with progress. Everything but uploading
// also works without this script. Names are only ever put into the page as text (textContent), never as HTML.
(function () {
    "use strict";

    // ---- times in the reader's time zone ----
    var timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
    document.querySelectorAll("time[datetime]").forEach(function (element) {
        var moment = new Date(element.getAttribute("datetime"));
        if (!isNaN(moment.getTime())) {
            element.title = element.textContent;
            element.textContent = timeFormat.format(moment);
        }
    });

    // ---- one menu open at a time; a click elsewhere or Escape closes it ----
    function closeMenus(except) {
        document.querySelectorAll("details.menu[open], details.dropdown[open]").forEach(function (menu) {
            if (menu !== except && !menu.contains(except)) {
                menu.removeAttribute("open");
            }
        });
    }
    document.addEventListener("click", function (event) {
        var inside = event.target.closest ? event.target.closest("details.menu, details.dropdown") : null;
        closeMenus(inside);
    });
    document.addEventListener("keydown", function (event) {
        if (event.key === "Escape") {
            closeMenus(null);
        }
    });
    document.querySelectorAll("details.dropdown").forEach(function (dropdown) {
        dropdown.addEventListener("toggle", function () {
            var first = dropdown.open && dropdown.querySelector("input[name=name]");
            if (first) {
                first.focus();
            }
        });
    });

    // ---- "are you sure?" before deleting ----
    var dialog = document.getElementById("confirm-dialog");
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
        form.addEventListener("submit", function (event) {
            if (form.dataset.confirmed === "yes" || !dialog || typeof dialog.showModal !== "function") {
                return;
            }
            event.preventDefault();
            document.getElementById("confirm-text").textContent = form.dataset.confirm;
            dialog.returnValue = "";
            dialog.onclose = function () {
                if (dialog.returnValue === "confirm") {
                    form.dataset.confirmed = "yes";
                    form.submit();
                }
            };
            closeMenus(null);
            dialog.showModal();
        });
    });

    // ---- uploads: the raw file, streamed, one at a time, each with its progress bar ----
    var input = document.getElementById("upload-input");
    var uploads = document.getElementById("uploads");
    var listing = document.getElementById("listing");
    if (!input || !uploads) {
        return;
    }
    var maxSize = Number(input.dataset.maxSize) || Infinity;

    function formatSize(size) {
        var units = ["B", "KB", "MB", "GB", "TB"];
        var unit = 0;
        while (size >= 1024 && unit < units.length - 1) {
            size /= 1024;
            unit += 1;
        }
        return (unit === 0 ? size : size.toFixed(size < 10 ? 1 : 0)) + " " + units[unit];
    }

    function element(tag, className, text) {
        var node = document.createElement(tag);
        node.className = className;
        if (text !== undefined) {
            node.textContent = text;
        }
        return node;
    }

    function errorText(xhr) {
        try {
            var answer = JSON.parse(xhr.responseText);
            if (answer && typeof answer.error === "string") {
                return answer.error;
            }
        } catch (ignored) {
            // not JSON: fall through
        }
        return "The upload failed (HTTP " + xhr.status + ").";
    }

    function uploadOne(file) {
        return new Promise(function (resolve) {
            var row = element("div", "upload");
            var name = element("span", "upload-name", file.name);
            var bar = element("progress", "upload-progress");
            var state = element("span", "upload-state", "Waiting…");
            bar.max = 100;
            bar.value = 0;
            row.append(name, bar, state);
            uploads.append(row);
            var seen = [];
            function fail(text) {
                row.classList.add("failed");
                state.textContent = text;
                resolve(false);
            }
            if (file.size > maxSize) {
                fail("“" + file.name + "” is larger than the " + formatSize(maxSize) + " this server accepts.");
                return;
            }
            var xhr = new XMLHttpRequest();
            xhr.open("POST", input.dataset.uploadUrl + "?name=" + encodeURIComponent(file.name));
            xhr.setRequestHeader("X-CSRF-Token", input.dataset.csrf);
            xhr.setRequestHeader("Content-Type", "application/octet-stream");
            xhr.upload.addEventListener("progress", function (event) {
                if (event.lengthComputable && event.total > 0) {
                    var percent = Math.floor((event.loaded / event.total) * 100);
                    bar.value = percent;
                    seen.push(percent);
                    row.dataset.progressSeen = seen.join(",");
                    state.textContent = formatSize(event.loaded) + " of " + formatSize(event.total) + " (" + percent + "%)";
                }
            });
            xhr.addEventListener("load", function () {
                if (xhr.status === 201) {
                    bar.value = 100;
                    row.classList.add("done");
                    state.textContent = "Uploaded " + formatSize(file.size);
                    resolve(true);
                } else {
                    fail(errorText(xhr));
                }
            });
            xhr.addEventListener("error", function () {
                fail("The connection failed, so “" + file.name + "” was not uploaded.");
            });
            state.textContent = "Starting…";
            xhr.send(file);
        });
    }

    function uploadAll(files) {
        var failed = 0;
        var chain = Promise.resolve();
        files.forEach(function (file) {
            chain = chain.then(function () {
                return uploadOne(file).then(function (ok) {
                    failed += ok ? 0 : 1;
                });
            });
        });
        chain.then(function () {
            if (failed === 0) {
                window.setTimeout(function () {
                    window.location.reload();
                }, 1200);
            } else {
                var again = element("a", "button small", "Refresh the list");
                again.href = window.location.href;
                var row = element("div", "upload upload-summary");
                row.append(again);
                uploads.append(row);
            }
        });
    }

    input.addEventListener("change", function () {
        var files = Array.prototype.slice.call(input.files);
        input.value = "";
        if (files.length) {
            uploadAll(files);
        }
    });

    if (listing) {
        listing.addEventListener("dragover", function (event) {
            if (event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") >= 0) {
                event.preventDefault();
                listing.classList.add("drop-target");
            }
        });
        listing.addEventListener("dragleave", function () {
            listing.classList.remove("drop-target");
        });
        listing.addEventListener("drop", function (event) {
            listing.classList.remove("drop-target");
            if (event.dataTransfer && event.dataTransfer.files.length) {
                event.preventDefault();
                uploadAll(Array.prototype.slice.call(event.dataTransfer.files));
            }
        });
    }
})();
