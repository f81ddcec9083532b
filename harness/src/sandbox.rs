//! `ml-connector sandbox gp|chargebee`: run an emulator on its own, for trying the connector (or
//! any other client) against it.

use clap::Subcommand;

#[derive(Subcommand)]
pub enum SandboxCommand {
    /// Dynamics GP: Web Services SOAP (per the real WSDL), SBA JSON, NTLMv2.
    Gp(gp_sandbox::SandboxArgs),
    /// Chargebee: API v2 JSON per region, Basic auth, rate limits, seeded data, webhooks.
    Chargebee(chargebee_sandbox::SandboxArgs),
}

impl SandboxCommand {
    /// Run until Ctrl-C.
    pub async fn run(self) -> anyhow::Result<()> {
        match self {
            SandboxCommand::Gp(args) => gp_sandbox::run(args).await,
            SandboxCommand::Chargebee(args) => chargebee_sandbox::run(args).await,
        }
    }
}
