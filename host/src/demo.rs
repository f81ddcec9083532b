//! `ml-connector demo`: placeholder replaced below.
pub async fn run(_records: usize) -> anyhow::Result<()> {
    anyhow::bail!("demo: see README")
}
