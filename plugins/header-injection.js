// Adds headers to the upstream request and removes one the upstream must not
// see. config_data.team (optional) is forwarded as X-Team.

var headerInjection = new TykJS.TykMiddleware.NewMiddleware({});

headerInjection.NewProcessRequest(function (request, session, config) {
    var data = config.config_data || {};
    request.SetHeaders["X-Portcullis-Pre"] = "injected";
    request.SetHeaders["X-Request-Method"] = request.Method;
    if (data.team) {
        request.SetHeaders["X-Team"] = String(data.team);
    }
    request.DeleteHeaders.push("X-Internal-Debug");
    request.AddParams["via"] = "portcullis";
    return headerInjection.ReturnData(request, {});
});
