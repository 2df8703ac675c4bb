//! Function documentation is registered with the functions, and the README shows exactly it.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::prelude::SessionContext;
use npcql::Engine;
use npcql_udfs::sql::docs::{SECTIONS, markdown_table};

#[tokio::test]
async fn every_registered_function_is_documented() {
    let engine = Engine::open(&crate::support::data_sample(), false).expect("dataset opens");
    let builtin = SessionContext::new().state();
    let state = engine.ctx().state();
    let added: Vec<(&String, Option<_>)> = state
        .scalar_functions()
        .iter()
        .filter(|(name, _)| !builtin.scalar_functions().contains_key(*name))
        .map(|(name, f)| (name, f.documentation()))
        .chain(
            state
                .aggregate_functions()
                .iter()
                .filter(|(name, _)| !builtin.aggregate_functions().contains_key(*name))
                .map(|(name, f)| (name, f.documentation())),
        )
        .chain(
            state
                .window_functions()
                .iter()
                .filter(|(name, _)| !builtin.window_functions().contains_key(*name))
                .map(|(name, f)| (name, f.documentation())),
        )
        .collect();
    assert_eq!(added.len(), npcql_udfs::sql::documentation().len());
    for (name, doc) in added {
        let doc = doc.unwrap_or_else(|| panic!("{name} has no documentation"));
        assert!(SECTIONS.contains(&doc.doc_section), "{name} is in no npcql section");
        assert!(
            doc.syntax_example.starts_with(&format!("{name}(")),
            "{name}: {}",
            doc.syntax_example
        );
    }
    // The same text reaches SQL users through information_schema.
    let routines = engine
        .ctx()
        .sql("SELECT description FROM information_schema.routines WHERE routine_name = 'tumor_volume'")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let description = routines[0].column(0).as_string::<i32>();
    assert!(
        description.len() == 1 && description.value(0).contains("IBSI RNU0"),
        "{description:?}"
    );
}

#[test]
fn the_readme_tables_are_the_registered_documentation() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let docs = npcql_udfs::sql::documentation();
    let docs: Vec<_> = docs.iter().collect();
    for section in &SECTIONS {
        let table = markdown_table(&docs, section);
        assert!(
            readme.contains(&table),
            "README's {} table differs from the functions' documentation; it should read:\n{table}",
            section.label
        );
    }
}
