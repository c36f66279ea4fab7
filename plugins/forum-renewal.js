// The renewal pre hook from the Tyk community thread "request error: Key has
// expired, please renew" (seed 002), written out in full.
//
// A client calls every second with its session key in the custom auth header
// (config_data.auth_header, default "x-session-key"). When the stored session
// is missing or expires within this second, the hook writes a new one with
// expires = now + config_data.session_expires_seconds (default 60). On Tyk
// the request that triggers the renewal can still be rejected with 401 "Key
// has expired, please renew"; on Portcullis it cannot.
//
// config_data: api_id, api_name, session_expires_seconds, auth_header

var forumRenewal = new TykJS.TykMiddleware.NewMiddleware({});

forumRenewal.NewProcessRequest(function (request, session, config) {
    var data = config.config_data || {};
    var headerName = data.auth_header || "x-session-key";
    var canonical = headerName.split("-").map(function (part) {
        return part.charAt(0).toUpperCase() + part.slice(1).toLowerCase();
    }).join("-");
    var presented = request.Headers[canonical];
    if (!presented || presented.length === 0) {
        request.ReturnOverrides.ResponseCode = 401;
        request.ReturnOverrides.ResponseError = "Authorization field missing";
        return forumRenewal.ReturnData(request, {});
    }
    var hashedSessionKey = presented[0];

    var session_expires_seconds = parseInt(data.session_expires_seconds || "60", 10);
    var curr_epoch = Math.floor(Date.now() / 1000);
    var stored = JSON.parse(TykGetKeyData(hashedSessionKey, config.APIID));

    if (stored.status === "error" || stored.expires <= curr_epoch) {
        var expires_at = curr_epoch + session_expires_seconds;
        log("curr_epoch=" + curr_epoch + " new session expires_at:" + expires_at);
        var rights = {};
        rights[data.api_id || config.APIID] = {
            "api_name": data.api_name || config.APIID,
            "api_id": data.api_id || config.APIID,
            "versions": ["Default"],
            "allowed_urls": null
        };
        var newSession = {
            "expires": expires_at,
            "quota_max": 1000,
            "quota_remaining": 1000,
            "quota_renewal_rate": session_expires_seconds,
            "alias": hashedSessionKey,
            "access_rights": rights
        };
        log("new session object = " + JSON.stringify(newSession));
        TykSetKeyData(hashedSessionKey, JSON.stringify(newSession));
    }
    return forumRenewal.ReturnData(request, {});
});
