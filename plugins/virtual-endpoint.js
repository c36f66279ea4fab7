// A virtual endpoint: answers from the gateway without calling an upstream.
// It echoes the method, path and query, and greets the caller named in
// ?name= (config_data.greeting sets the greeting word).

function helloEndpoint(request, session, config) {
    var data = config.config_data || {};
    var greeting = data.greeting || "Hello";
    var name = (request.Params["name"] && request.Params["name"][0]) || "world";
    var body = {
        message: greeting + ", " + name + "!",
        url: request.URL,
        at: Math.floor(Date.now() / 1000)
    };
    var response = {
        Body: JSON.stringify(body),
        Headers: { "Content-Type": "application/json", "X-Served-By": "portcullis-virtual" },
        Code: 200
    };
    return TykJsResponse(response, session.meta_data || {});
}
