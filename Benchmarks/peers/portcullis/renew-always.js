// Benchmark pre hook: the work of plugins/forum-renewal.js, except that the
// session is written back with expires = now + session_expires_seconds on
// every request instead of only when it is missing or expiring. Each request
// therefore does one TykGetKeyData and one TykSetKeyData.

var renewAlways = new TykJS.TykMiddleware.NewMiddleware({});

renewAlways.NewProcessRequest(function (request, session, config) {
    var data = config.config_data || {};
    var presented = request.Headers["X-Session-Key"];
    if (!presented || presented.length === 0) {
        request.ReturnOverrides.ResponseCode = 401;
        request.ReturnOverrides.ResponseError = "Authorization field missing";
        return renewAlways.ReturnData(request, {});
    }
    var key = presented[0];
    var ttl = parseInt(data.session_expires_seconds || "60", 10);
    var now = Math.floor(Date.now() / 1000);
    var stored = JSON.parse(TykGetKeyData(key, config.APIID));
    var rights = {};
    rights[data.api_id || config.APIID] = {
        "api_name": data.api_name || config.APIID,
        "api_id": data.api_id || config.APIID,
        "versions": ["Default"],
        "allowed_urls": null
    };
    TykSetKeyData(key, JSON.stringify({
        "expires": now + ttl,
        "quota_max": 1000,
        "quota_remaining": 1000,
        "quota_renewal_rate": ttl,
        "alias": stored.alias || key,
        "access_rights": rights
    }));
    return renewAlways.ReturnData(request, {});
});
