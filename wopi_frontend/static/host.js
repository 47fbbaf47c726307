// The host page: frames the WOPI client's editor and speaks PostMessage with it (WOPI_DIGEST.md sections 9, 10).
//
// The iframe is made here, not in the markup (browsers otherwise reuse or reload it on back/forward), then the
// hidden form POSTs the access token into it. Host_PostmessageReady goes to the frame each time it loads; no
// other message is sent before the frame says App_LoadingStatus. Every message received is checked against the
// client's origins first.
(function () {
    "use strict";

    var config = JSON.parse(document.getElementById("host-config").textContent);
    var frame = null;
    var appLoaded = false;
    var editNoted = false;

    // ---- talking to the frame ----

    function send(messageId, values) {
        if (!frame || !frame.contentWindow) {
            return;
        }
        if (messageId !== "Host_PostmessageReady" && !appLoaded) {
            return; // until App_LoadingStatus, the frame can take nothing else
        }
        var message = { MessageId: messageId, SendTime: Date.now(), Values: values || {} };
        frame.contentWindow.postMessage(JSON.stringify(message), config.frameOrigin);
    }

    function createFrame() {
        frame = document.createElement("iframe");
        frame.name = "office_frame";
        frame.id = "office_frame";
        frame.title = config.frameTitle;
        frame.setAttribute("allowfullscreen", "true");
        frame.setAttribute("sandbox", config.sandbox);
        frame.setAttribute("allow", "clipboard-read; clipboard-write; fullscreen");
        document.getElementById("frameholder").appendChild(frame);
        frame.addEventListener("load", function () {
            appLoaded = false; // a new document in the frame: wait for its App_LoadingStatus again
            document.body.removeAttribute("data-app-loaded");
            send("Host_PostmessageReady");
        });
        document.getElementById("office_form").submit();
    }

    // wd* parameters were passed on to the frame as they came; these two must not be reused by a reload.
    function forgetPreviousSession() {
        if (!window.history || typeof window.history.replaceState !== "function" || !window.location.search) {
            return;
        }
        var parts = window.location.search.slice(1).split("&");
        var kept = parts.filter(function (part) {
            var name = part.split("=")[0];
            return name !== "wdPreviousSession" && name !== "wdPreviousCorrelation";
        });
        if (kept.length !== parts.length) {
            var search = kept.length ? "?" + kept.join("&") : "";
            window.history.replaceState(window.history.state, "", window.location.pathname + search + window.location.hash);
        }
    }

    // ---- host UI drawn over the frame ----

    var toastTimer = null;

    function toast(text) {
        var box = document.getElementById("toast");
        box.textContent = text;
        box.hidden = false;
        window.clearTimeout(toastTimer);
        toastTimer = window.setTimeout(function () {
            box.hidden = true;
        }, 5000);
    }

    function openPanel(id) {
        var panel = document.getElementById(id);
        if (panel.open) {
            return;
        }
        send("Blur_Focus"); // so the editor does not grab the focus back while our panel is open
        panel.addEventListener(
            "close",
            function () {
                send("Grab_Focus");
            },
            { once: true }
        );
        panel.showModal();
    }

    function fillShareLinks() {
        var holder = document.getElementById("share-links");
        config.shareLinks.forEach(function (link) {
            var label = document.createElement("label");
            label.textContent = link.label;
            var row = document.createElement("div");
            row.className = "share-row";
            var field = document.createElement("input");
            field.readOnly = true;
            field.value = link.url;
            var copy = document.createElement("button");
            copy.type = "button";
            copy.className = "button small";
            copy.textContent = "Copy";
            copy.addEventListener("click", function () {
                field.select();
                var done = function () {
                    copy.textContent = "Copied";
                };
                if (navigator.clipboard && window.isSecureContext) {
                    navigator.clipboard.writeText(link.url).then(done, function () {
                        document.execCommand("copy");
                        done();
                    });
                } else {
                    document.execCommand("copy");
                    done();
                }
            });
            row.append(field, copy);
            label.append(row);
            holder.append(label);
        });
    }

    var timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

    function showVersions() {
        var status = document.getElementById("versions-status");
        var list = document.getElementById("versions-list");
        openPanel("versions-dialog");
        list.textContent = "";
        if (!config.versionsUrl) {
            status.textContent = "The version history is available to people signed in to this site.";
            return;
        }
        status.textContent = "Loading…";
        fetch(config.versionsUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
            .then(function (response) {
                return response.json().then(function (body) {
                    if (!response.ok) {
                        throw new Error(body.error || "HTTP " + response.status);
                    }
                    return body;
                });
            })
            .then(function (body) {
                status.textContent = body.history
                    ? body.versions.length + (body.versions.length === 1 ? " version" : " versions") + ", newest first."
                    : "This storage keeps no earlier versions: only the current one is listed.";
                body.versions.forEach(function (version) {
                    var item = document.createElement("li");
                    var when = document.createElement("span");
                    when.className = "version-when";
                    var moment = new Date(version.modified);
                    when.textContent = version.modified && !isNaN(moment.getTime()) ? timeFormat.format(moment) : "Unknown time";
                    var about = document.createElement("span");
                    about.className = "version-about muted";
                    about.textContent = [version.current ? "Current" : "", version.size, version.modified_by]
                        .filter(Boolean)
                        .join(" · ");
                    var download = document.createElement("a");
                    download.className = "button small";
                    download.href = version.download_url;
                    download.textContent = "Download";
                    item.append(when, about, download);
                    list.append(item);
                });
            })
            .catch(function (error) {
                status.textContent = "The versions could not be listed: " + error.message;
            });
    }

    // ---- messages from the frame ----

    function onMessage(event) {
        if (config.trustedOrigins.indexOf(event.origin) < 0) {
            return; // not the editor: ignored, whatever it says
        }
        var message;
        try {
            message = typeof event.data === "string" ? JSON.parse(event.data) : event.data;
        } catch (ignored) {
            return;
        }
        if (!message || typeof message.MessageId !== "string") {
            return;
        }
        var values = message.Values || {};
        switch (message.MessageId) {
            case "App_LoadingStatus":
                appLoaded = true;
                document.body.setAttribute("data-app-loaded", "true");
                break;
            case "UI_Close":
                window.location.assign(config.closeUrl);
                break;
            case "UI_Edit":
                if (config.editUrl) {
                    window.location.assign(config.editUrl);
                } else {
                    toast("Editing is not available from this link.");
                }
                break;
            case "UI_Sharing":
                openPanel("share-dialog");
                break;
            case "UI_FileVersions":
                showVersions();
                break;
            case "File_Rename":
                if (typeof values.NewName === "string" && values.NewName) {
                    config.name = values.NewName;
                    document.title = values.NewName + " - " + config.brand;
                }
                break;
            case "Edit_Notification":
                document.body.setAttribute("data-edited", String(Date.now()));
                if (!editNoted) {
                    editNoted = true;
                    toast("You are editing “" + config.name + "”. Changes are saved automatically.");
                }
                break;
            default:
                break; // other messages need nothing from this host
        }
    }

    window.addEventListener("message", onMessage, false);
    fillShareLinks();
    createFrame();
    forgetPreviousSession();
})();
