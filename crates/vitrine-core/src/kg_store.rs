//! The knowledge graph in the store: seeding from the built-in files,
//! reading it back whole, and importing a user's additions.

use sqlx::Row;

use crate::store::Conn;

use crate::error::Result;
use crate::kg::{
    AttrValue, Attribute, Category, GraphCounts, GraphFile, ImagenetMap, KnowledgeGraph, Relation,
    RelationKind,
};
use crate::store::Store;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    Builtin,
    User,
}

impl Origin {
    fn as_str(self) -> &'static str {
        match self {
            Origin::Builtin => "builtin",
            Origin::User => "user",
        }
    }
}

fn json(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

fn list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

/// Upsert `file`'s rows. A built-in write leaves rows a user owns alone; a
/// user write takes them over.
async fn write_rows(conn: &mut Conn, file: &GraphFile, origin: Origin) -> Result<()> {
    let o = origin.as_str();
    // Qualified: in PostgreSQL a bare `origin` could be the row's or the
    // proposed one's (`excluded.origin`).
    let guard = |table: &str| {
        if origin == Origin::Builtin {
            format!(" WHERE {table}.origin = 'builtin'")
        } else {
            String::new()
        }
    };
    for c in &file.categories {
        sqlx::query(&format!(
            "INSERT INTO kg_categories (key, en, zh, synonyms_en, synonyms_zh, attributes, origin)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (key) DO UPDATE SET en = $2, zh = $3, synonyms_en = $4,
                 synonyms_zh = $5, attributes = $6, origin = $7{}",
            guard("kg_categories")
        ))
        .bind(&c.key)
        .bind(&c.en)
        .bind(&c.zh)
        .bind(json(&c.synonyms_en))
        .bind(json(&c.synonyms_zh))
        .bind(json(&c.attributes))
        .bind(o)
        .execute(&mut *conn)
        .await?;
    }
    for a in &file.attributes {
        sqlx::query(&format!(
            "INSERT INTO kg_attributes (key, en, zh, multi, values_from, origin)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (key) DO UPDATE SET en = $2, zh = $3, multi = $4,
                 values_from = $5, origin = $6{}",
            guard("kg_attributes")
        ))
        .bind(&a.key)
        .bind(&a.en)
        .bind(&a.zh)
        // An integer 0/1 on both backends (PostgreSQL has no implicit
        // boolean-to-integer cast).
        .bind(i64::from(a.multi))
        .bind(&a.values_from)
        .bind(o)
        .execute(&mut *conn)
        .await?;
        for (i, v) in a.values.iter().enumerate() {
            sqlx::query(&format!(
                "INSERT INTO kg_values (attribute, key, en, zh, synonyms_en, synonyms_zh, position, origin)
                 VALUES ($1, $2, $3, $4, $5, $6,
                     COALESCE((SELECT position FROM kg_values WHERE attribute = $1 AND key = $2),
                              $7 + (SELECT COUNT(*) FROM kg_values WHERE attribute = $1)), $8)
                 ON CONFLICT (attribute, key) DO UPDATE SET en = $3, zh = $4, synonyms_en = $5,
                     synonyms_zh = $6, origin = $8{}",
                guard("kg_values")
            ))
            .bind(&a.key)
            .bind(&v.key)
            .bind(&v.en)
            .bind(&v.zh)
            .bind(json(&v.synonyms_en))
            .bind(json(&v.synonyms_zh))
            .bind(i as i64)
            .bind(o)
            .execute(&mut *conn)
            .await?;
        }
    }
    for r in &file.relations {
        sqlx::query(
            "INSERT INTO kg_relations (kind, from_key, to_key, origin) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
        )
        .bind(r.kind.as_str())
        .bind(&r.from)
        .bind(&r.to)
        .bind(o)
        .execute(&mut *conn)
        .await?;
    }
    for m in &file.imagenet {
        sqlx::query(&format!(
            "INSERT INTO kg_imagenet (idx, label, category, origin) VALUES ($1, $2, $3, $4)
             ON CONFLICT (idx) DO UPDATE SET label = $2, category = $3, origin = $4{}",
            guard("kg_imagenet")
        ))
        .bind(i64::from(m.index))
        .bind(&m.label)
        .bind(&m.category)
        .bind(o)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn read_file(conn: &mut Conn) -> Result<GraphFile> {
    let mut file = GraphFile::default();
    for r in sqlx::query(
        "SELECT key, en, zh, synonyms_en, synonyms_zh, attributes FROM kg_categories ORDER BY key",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        file.categories.push(Category {
            key: r.try_get(0)?,
            en: r.try_get(1)?,
            zh: r.try_get(2)?,
            synonyms_en: list(r.try_get(3)?),
            synonyms_zh: list(r.try_get(4)?),
            attributes: list(r.try_get(5)?),
        });
    }
    for r in sqlx::query("SELECT key, en, zh, multi, values_from FROM kg_attributes ORDER BY key")
        .fetch_all(&mut *conn)
        .await?
    {
        file.attributes.push(Attribute {
            key: r.try_get(0)?,
            en: r.try_get(1)?,
            zh: r.try_get(2)?,
            multi: r.try_get::<i64, _>(3)? != 0,
            values_from: r.try_get(4)?,
            values: Vec::new(),
        });
    }
    for r in sqlx::query(
        "SELECT attribute, key, en, zh, synonyms_en, synonyms_zh FROM kg_values
         ORDER BY attribute, position, key",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        let attribute: String = r.try_get(0)?;
        if let Some(a) = file.attributes.iter_mut().find(|a| a.key == attribute) {
            a.values.push(AttrValue {
                key: r.try_get(1)?,
                en: r.try_get(2)?,
                zh: r.try_get(3)?,
                synonyms_en: list(r.try_get(4)?),
                synonyms_zh: list(r.try_get(5)?),
            });
        }
    }
    for r in sqlx::query("SELECT kind, from_key, to_key FROM kg_relations")
        .fetch_all(&mut *conn)
        .await?
    {
        let kind: String = r.try_get(0)?;
        if let Some(kind) = RelationKind::parse(&kind) {
            file.relations.push(Relation {
                kind,
                from: r.try_get(1)?,
                to: r.try_get(2)?,
            });
        }
    }
    for r in sqlx::query("SELECT idx, label, category FROM kg_imagenet ORDER BY idx")
        .fetch_all(&mut *conn)
        .await?
    {
        let idx: i64 = r.try_get(0)?;
        file.imagenet.push(ImagenetMap {
            index: u16::try_from(idx).unwrap_or(u16::MAX),
            label: r.try_get(1)?,
            category: r.try_get(2)?,
        });
    }
    Ok(file)
}

impl Store {
    /// Bring the stored graph up to date with the built-in files (once per
    /// change of those files); a no-op otherwise.
    pub async fn seed_knowledge_graph(&self) -> Result<()> {
        let digest = GraphFile::builtin_digest();
        let stored: Option<String> =
            sqlx::query_scalar("SELECT builtin_digest FROM kg_meta WHERE id = 1")
                .fetch_optional(self.pool())
                .await?;
        if stored.as_deref() == Some(digest.as_str()) {
            return Ok(());
        }
        let builtin = GraphFile::builtin()?;
        KnowledgeGraph::new(builtin.clone())?;
        let mut tx = self.begin_write().await?;
        write_rows(&mut tx, &builtin, Origin::Builtin).await?;
        sqlx::query(
            "INSERT INTO kg_meta (id, builtin_digest) VALUES (1, $1)
             ON CONFLICT (id) DO UPDATE SET builtin_digest = $1",
        )
        .bind(&digest)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::debug!("knowledge graph seeded from the built-in files");
        Ok(())
    }

    /// The stored graph, validated.
    pub async fn knowledge_graph(&self) -> Result<KnowledgeGraph> {
        self.seed_knowledge_graph().await?;
        let mut conn = self.pool().acquire().await?;
        KnowledgeGraph::new(read_file(&mut conn).await?)
    }

    /// Add or replace the entries of `file` as the user's own. The merged
    /// graph is validated first; nothing is written if it is invalid.
    pub async fn import_knowledge_graph(&self, file: GraphFile) -> Result<GraphCounts> {
        self.seed_knowledge_graph().await?;
        let mut tx = self.begin_write().await?;
        let mut merged = read_file(&mut tx).await?;
        merged.merge(file.clone());
        let kg = KnowledgeGraph::new(merged)?;
        write_rows(&mut tx, &file, Origin::User).await?;
        tx.commit().await?;
        Ok(kg.counts())
    }
}

impl Store {
    /// Set what the user says a product's `key` is (a category, or an
    /// attribute of the knowledge graph), replacing the user's earlier
    /// values for that key; an empty `values` clears them. Values are keys,
    /// labels or synonyms in English or Chinese, resolved against the graph;
    /// anything the graph does not know is refused, naming what it allows.
    /// Machine facts for the key stay stored (re-analysis refreshes them)
    /// but prompts use the user's values instead.
    pub async fn set_user_facts(
        &self,
        product_id: i64,
        key: &str,
        values: &[String],
    ) -> Result<Vec<crate::types::Fact>> {
        use crate::error::CoreError;
        let kg = self.knowledge_graph().await?;
        let resolved: Vec<(String, String, String)> = if key == "category" {
            if values.len() > 1 {
                return Err(CoreError::InvalidInput("a product has one category".into()));
            }
            values
                .iter()
                .map(|v| {
                    let t = v.trim().to_lowercase();
                    kg.categories()
                        .find(|c| {
                            c.key == t
                                || c.en.to_lowercase() == t
                                || c.zh == v.trim()
                                || c.synonyms_en.iter().any(|s| s.to_lowercase() == t)
                                || c.synonyms_zh.iter().any(|s| s == v.trim())
                        })
                        .map(|c| (c.key.clone(), c.en.clone(), c.zh.clone()))
                        .ok_or_else(|| {
                            CoreError::InvalidInput(format!(
                                "no category `{v}`; `vitrine kg export` lists them"
                            ))
                        })
                })
                .collect::<Result<_>>()?
        } else {
            let attr = kg.attribute(key).ok_or_else(|| {
                let known: Vec<&str> = kg.attributes().map(|a| a.key.as_str()).collect();
                CoreError::InvalidInput(format!(
                    "unknown attribute `{key}`; known: category, {}",
                    known.join(", ")
                ))
            })?;
            if values.len() > 1 && !attr.multi {
                return Err(CoreError::InvalidInput(format!("`{key}` takes one value")));
            }
            values
                .iter()
                .map(|v| {
                    kg.find_value(key, v)
                        .map(|x| (x.key, x.en, x.zh))
                        .ok_or_else(|| {
                            let allowed: Vec<String> =
                                kg.values(key).into_iter().map(|x| x.key).collect();
                            CoreError::InvalidInput(format!(
                                "`{v}` is not a {key}; allowed: {}",
                                allowed.join(", ")
                            ))
                        })
                })
                .collect::<Result<_>>()?
        };
        let mut tx = self.begin_write().await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM products WHERE id = $1")
            .bind(product_id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(CoreError::NotFound {
                kind: "product",
                id: product_id,
            });
        }
        sqlx::query("DELETE FROM facts WHERE product_id = $1 AND key = $2 AND source = 'user'")
            .bind(product_id)
            .bind(key)
            .execute(&mut *tx)
            .await?;
        for (value, en, zh) in resolved {
            crate::store::insert_fact(
                &mut tx,
                &crate::store::NewFact {
                    product_id,
                    key: key.to_string(),
                    value,
                    label_en: en,
                    label_zh: zh,
                    source: crate::types::FactSource::User,
                    confidence: 1.0,
                    data: serde_json::json!({}),
                },
            )
            .await?;
        }
        let facts = crate::store::facts_for_product(&mut tx, product_id).await?;
        tx.commit().await?;
        Ok(facts)
    }
}
