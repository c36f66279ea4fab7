# Helpers shared by run.sh (the peer benchmark) and pair.sh (two builds
# compared); sourced, not run.

# Copies a template, filling in the @NAME@ placeholders from the variables
# of the same names (HERE is the peers folder).
render() {
    sed -e "s|@PORT@|${PORT:-}|g" \
        -e "s|@UPSTREAM_PORT@|${UPSTREAM_PORT:-}|g" \
        -e "s|@REDIS_PORT@|${REDIS_PORT:-0}|g" \
        -e "s|@WORKERS@|$WORKERS|g" \
        -e "s|@PEERS@|$HERE|g" \
        -e "s|@TOKEN@|$TOKEN|g" \
        -e "s|@SECRET@|$SECRET|g" \
        -e "s|@RENEW_ALWAYS@|${RENEW_ALWAYS:-false}|g" \
        -e "s|@APP_PATH@|${APP_PATH:-}|g" \
        -e "s|@MIDDLEWARE_PATH@|${MIDDLEWARE_PATH:-}|g" \
        -e "s|@HOOK_NAME@|${HOOK_NAME:-}|g" \
        -e "s|@HOOK_PATH@|${HOOK_PATH:-}|g" \
        -e "s|@OPENTELEMETRY@|${OPENTELEMETRY:-{\"enabled\": false\}}|g" \
        "$1" >"$2"
}

# The benchmark key's session: expires TTL seconds from now, no limits,
# access to the forum API.
session_json() {
    local now
    now=$(date +%s)
    printf '{"expires": %d, "quota_max": -1, "quota_remaining": -1, "quota_renewal_rate": 0, "rate": 0, "per": 0, "alias": "%s", "access_rights": {"forum-api": {"api_id": "forum-api", "api_name": "forum", "versions": ["Default"], "allowed_urls": null}}, "meta_data": {}}' \
        $((now + TTL)) "$1"
}
