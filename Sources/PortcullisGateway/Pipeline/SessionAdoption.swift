import PortcullisSessions

extension GatewayRequest {
    /// Takes `found` as the request's session, with the policies it names
    /// applied for this API, as every later stage and plugin sees it. A
    /// policy that cannot be applied refuses the request (403) and is
    /// logged with its id: a key never gets more than its policies grant.
    mutating func adopt(_ found: VersionedSession, services: GatewayServices) throws {
        guard !found.session.policyIDs.isEmpty else {
            session = found
            storedSession = nil
            return
        }
        do {
            let applied = try services.policies.current.apply(to: found.session, apiOrgID: api.definition.orgID)
            session = VersionedSession(session: applied, version: found.version)
            storedSession = found.session
        } catch {
            services.logger.error("key refused: \(error)", metadata: [
                "request_id": .string(id), "api_id": .string(api.definition.apiID),
                "key": .string(key.map(services.displayKey) ?? ""), "policy_id": .string(error.policyID),
            ])
            throw GatewayError.policyRefused(error.description)
        }
    }

    /// Changes the session as stored and as this request sees it, and
    /// returns the stored form to write back (nil without a session).
    mutating func changeSession(_ change: (inout SessionState) -> Void) -> SessionState? {
        guard var current = session else { return nil }
        change(&current.session)
        session = current
        guard var stored = storedSession else { return current.session }
        change(&stored)
        storedSession = stored
        return stored
    }

    /// Notes the record version a write-back stored.
    mutating func sessionWritten(version: UInt64) {
        session?.version = version
    }
}
