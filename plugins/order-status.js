// A virtual endpoint for the Tyk OAS example API (examples/apps/orders-oas.json):
// answers GET /orders/status/{id} from the gateway with the order id from the
// path, the caller's plan from its session, and config_data.team.

function orderStatus(request, session, config) {
    var data = config.config_data || {};
    var parts = request.URL.split("?")[0].split("/");
    var body = {
        order: parts[parts.length - 1],
        status: "shipped",
        plan: (session.meta_data && session.meta_data.plan) || "none",
        team: data.team || ""
    };
    return TykJsResponse({
        Body: JSON.stringify(body),
        Headers: { "Content-Type": "application/json" },
        Code: 200
    }, session.meta_data || {});
}
