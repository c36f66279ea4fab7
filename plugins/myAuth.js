// The "myAuth" pre hook from the Tyk community thread in which a plugin
// manages key expiry itself (seed 003), completed into valid JavaScript.
//
// On each request it reads the caller's Authorization header, copies it into
// x-internal-authorization (the header the API's token auth reads), looks the
// key up with TykGetKeyData and, when the key is missing or expired,
// re-authenticates against config_data.my_host and writes a renewed session
// with TykSetKeyData. On Portcullis the renewed session is what the auth stage
// sees for this same request.
//
// config_data: my_host, requesting_system, requested_resource_tag,
//              session_expires_seconds, api_id, api_name, debug_mode ("true"/"false")

log("====> myAuth Auth initializing");

var myAuth = new TykJS.TykMiddleware.NewMiddleware({});

myAuth.NewProcessRequest(function (request, session, config) {
    var debugMode = (config.config_data.debug_mode == 'true');

    if (debugMode) {
        log("----> Running myAuth JSVM Auth Middleware");
        log("config = " + JSON.stringify(config));
        log("request = " + JSON.stringify(request));
        log("session = " + JSON.stringify(session));
    }

    var rawAuthorization = request.Headers["Authorization"];

    if (rawAuthorization && rawAuthorization.length > 0) {
        rawAuthorization = rawAuthorization[0];
    } else {
        request.ReturnOverrides.ResponseCode = 401;
        request.ReturnOverrides.ResponseError = 'Authentication required';
        return myAuth.ReturnData(request, {});
    }

    var authHash = rawAuthorization; // the forum plugin left hashing as a todo

    request.SetHeaders = { "x-internal-authorization": authHash };

    if (debugMode) {
        log("rawAuthorization = " + rawAuthorization);
        log("authHash = " + authHash);
    }

    var tykSession = JSON.parse(TykGetKeyData(authHash, config.APIID));

    if (debugMode) {
        log("tykSession = " + JSON.stringify(tykSession));
    }

    var curr_epoch = Math.round(new Date().getTime() / 1000);

    if (tykSession.status == "error" || tykSession.expires <= curr_epoch) {
        if (debugMode) {
            log("session.status=" + tykSession.status + " curr_epoch: " + curr_epoch +
                " session.expires: " + tykSession.expires +
                ", attempting auth against: " + config.config_data.my_host +
                " as: " + config.config_data.requesting_system +
                " for: " + config.config_data.requested_resource_tag);
        }

        var newRequest = {
            "Method": "GET",
            "Body": "",
            "Headers": {
                "X-Requesting-System": String(config.config_data.requesting_system),
                "X-Resource-Tag": String(config.config_data.requested_resource_tag)
            },
            "Domain": config.config_data.my_host,
            "Resource": "/auth/" + config.config_data.requesting_system + "/" + config.config_data.requested_resource_tag
        };

        var rawmyAuthResp = TykMakeHttpRequest(JSON.stringify(newRequest));
        var respObj = rawmyAuthResp ? JSON.parse(rawmyAuthResp) : { Code: 0, code: 0 };

        if (debugMode) {
            log("raw MY auth response: " + rawmyAuthResp);
        }

        if (respObj.Code != 200) {
            request.ReturnOverrides.ResponseCode = 401;
            request.ReturnOverrides.ResponseError = 'MY Auth Failed: ' + respObj.code;
            return myAuth.ReturnData(request, {});
        }

        var expires_at = curr_epoch + parseInt(config.config_data.session_expires_seconds, 10);

        if (debugMode) {
            log("curr_epoch=" + curr_epoch + " new session expires_at:" + expires_at);
        }

        var rights = {};
        rights[config.config_data.api_id] = {
            "api_name": config.config_data.api_name,
            "api_id": config.config_data.api_id,
            "versions": ["Default"],
            "allowed_urls": null
        };
        var newSession = {
            "expires": expires_at,
            "access_rights": rights
        };

        if (debugMode) {
            log("new session object = " + JSON.stringify(newSession));
        }

        TykSetKeyData(authHash, JSON.stringify(newSession));

        return myAuth.ReturnData(request, {});
    }

    if (debugMode) {
        log("Pre-existing session exists... using, no MY auth check, curr_epoch: " + curr_epoch +
            " session.expires: " + tykSession.expires);
    }
    return myAuth.ReturnData(request, {});
});

log("====> myAuth initialised");
