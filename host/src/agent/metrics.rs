//! The agents' status as Prometheus metrics (admin `GET /metrics`), read from this replica's
//! tunnels at scrape time: whether each agent connection is online (and since when not), its
//! tunnels, calls in flight, calls and errors per tunnel's life, and each agent's last heartbeat.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::hub::ConnectionAgents;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Conn {
    connection: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Agent {
    connection: String,
    credential: String,
    version: String,
}

/// The text exposition of `agents`.
pub fn render(agents: &[ConnectionAgents]) -> anyhow::Result<String> {
    let mut registry = Registry::with_prefix("mlc_agent");
    let online = Family::<Conn, Gauge>::default();
    let offline_since = Family::<Conn, Gauge>::default();
    let tunnels = Family::<Conn, Gauge>::default();
    let in_flight = Family::<Conn, Gauge>::default();
    let requests = Family::<Agent, Gauge>::default();
    let errors = Family::<Agent, Gauge>::default();
    let heartbeat = Family::<Agent, Gauge>::default();
    for c in agents {
        let conn = Conn { connection: c.connection.clone() };
        online.get_or_create(&conn).set(i64::from(c.online));
        offline_since.get_or_create(&conn).set(c.offline_since.map_or(0, |ms| ms / 1000));
        tunnels.get_or_create(&conn).set(c.tunnels.len() as i64);
        in_flight.get_or_create(&conn).set(c.tunnels.iter().map(|t| t.in_flight as i64).sum());
        for t in &c.tunnels {
            let agent = Agent {
                connection: c.connection.clone(),
                credential: t.credential.clone(),
                version: t.version.clone(),
            };
            requests.get_or_create(&agent).inc_by(t.requests as i64);
            errors.get_or_create(&agent).inc_by(t.errors as i64);
            heartbeat.get_or_create(&agent).set(t.last_heartbeat / 1000);
        }
    }
    registry.register("online", "1 while an agent of the connection holds a tunnel to this replica", online);
    registry.register(
        "offline_since_seconds",
        "Unix time the connection's last tunnel dropped (0 while online)",
        offline_since,
    );
    registry.register("tunnels", "Tunnels of the connection's agents to this replica", tunnels);
    registry.register("in_flight", "GP calls in flight through the connection's tunnels", in_flight);
    registry.register("tunnel_requests", "Requests sent on the agent's current tunnel", requests);
    registry.register("tunnel_errors", "Failed requests on the agent's current tunnel", errors);
    registry.register("last_heartbeat_seconds", "Unix time of the agent's last answer", heartbeat);
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &registry)?;
    Ok(out)
}
