//! pgwatch's one connection to the server, with the snapshot statement prepared.

use tokio_postgres::{Client, NoTls, Statement};

use crate::snapshot::{self, Shape, Snapshot, MISSING_DATABASES_SQL, VISIBILITY_SQL};
use crate::target::Target;

pub struct Session {
    client: Client,
    statement: Statement,
    connection: tokio::task::JoinHandle<()>,
}

impl Session {
    /// Connects and prepares the snapshot statement.
    pub async fn open(target: &Target) -> Result<Session, tokio_postgres::Error> {
        let (client, connection) = target.config.connect(NoTls).await?;
        // The connection's own task ends when the server goes away; the
        // client then fails its next query, which is where we notice.
        let connection = tokio::spawn(async move {
            let _ = connection.await;
        });
        let statement = client.prepare(snapshot::SNAPSHOT_SQL).await?;
        Ok(Session {
            client,
            statement,
            connection,
        })
    }

    pub async fn snapshot(
        &self,
        shape: &Shape,
        ts: u64,
    ) -> Result<Snapshot, tokio_postgres::Error> {
        snapshot::take(&self.client, &self.statement, shape, ts).await
    }

    /// The role's name, if it cannot see other roles' sessions in full.
    pub async fn limited_role(&self) -> Result<Option<String>, tokio_postgres::Error> {
        let row = self.client.query_opt(VISIBILITY_SQL, &[]).await?;
        Ok(row.and_then(|row| {
            let sees_all: bool = row.get(1);
            (!sees_all).then(|| row.get(0))
        }))
    }

    /// The names among `names` that are not databases on the server.
    pub async fn missing_databases(
        &self,
        names: &[String],
    ) -> Result<Vec<String>, tokio_postgres::Error> {
        let rows = self.client.query(MISSING_DATABASES_SQL, &[&names]).await?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.connection.abort();
    }
}
