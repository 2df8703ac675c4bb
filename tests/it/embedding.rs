//! npcql as a library inside a report: open the dataset, run SQL, use the Arrow batches.
//! (The README's "Embedding" section points here.)

use datafusion::arrow::array::{Array, Float64Array, StringArray};
use npcql::Engine;

#[tokio::test]
async fn a_report_reads_pfs_by_ebv_status_as_arrow() {
    let engine = Engine::open(&crate::support::data_sample(), true).expect("dataset opens");
    let results = npcql::query::run(
        &engine,
        "SELECT ebv_status, km_survival_at(pfs_months, pfs_event, 60) AS pfs_5y
         FROM patients WHERE ebv_status IS NOT NULL GROUP BY ebv_status ORDER BY ebv_status",
    )
    .await
    .expect("query runs");
    let batch = &results[0].batches[0];
    let status = batch.column(0).as_any().downcast_ref::<StringArray>().unwrap();
    let pfs_5y = batch.column(1).as_any().downcast_ref::<Float64Array>().unwrap();
    assert_eq!((status.value(0), status.value(1)), ("negative", "positive"));
    // The sample's signal: EBV-DNA-positive patients progress sooner. Kaplan–Meier at 60 months
    // on data-sample's clinical.csv is 6/7 (EBV-negative) and 221/432 (EBV-positive), as lifelines
    // 0.30 gives (0.857142857142857, 0.5115740740740742).
    for (got, want) in [(pfs_5y.value(0), 6.0 / 7.0), (pfs_5y.value(1), 221.0 / 432.0)] {
        assert!((got - want).abs() <= 1e-14 * want, "{got} != {want}: {pfs_5y:?}");
    }
    assert_eq!(pfs_5y.null_count(), 0);
    assert!(engine.take_warnings().is_empty());
}

/// The one statement loop (`-c`, `-f`, the shell, the report and `query::run` all run through
/// it): each statement is planned, run and handed to the printer in order; after each, run or
/// failed, the printer sees its warnings; the first failure stops it.
#[tokio::test]
async fn one_statement_loop_hands_each_result_to_the_printer() {
    use npcql::query::{Printer, StatementStream, exec_and_print};

    #[derive(Default)]
    struct Record(Vec<String>);
    impl Printer for Record {
        type Error = npcql::Error;
        async fn print(&mut self, result: StatementStream) -> npcql::Result<()> {
            let rows = result.collect().await?.row_count();
            self.0.push(format!("rows {rows}"));
            Ok(())
        }
        fn ran_without_rows(&mut self) {
            self.0.push("acted".into());
        }
        fn warnings(&mut self, engine: &Engine) -> npcql::Result<()> {
            self.0.push(format!("warnings {}", engine.take_warnings().len()));
            Ok(())
        }
        fn finished(&mut self, _: std::time::Duration) {
            self.0.push("finished".into());
        }
    }
    let engine = Engine::open(&crate::support::data_sample(), false).expect("dataset opens");
    let mut record = Record::default();
    let sql = "CREATE VIEW ids AS SELECT patient_id FROM patients; SELECT * FROM ids; \
               SELECT nope FROM ids; SELECT 1";
    let error = exec_and_print(&engine, sql, &mut record).await.unwrap_err();
    assert!(error.to_string().contains("nope"), "{error}");
    assert_eq!(
        record.0,
        [
            "acted",
            "warnings 0",
            "finished",
            "rows 48",
            "warnings 0",
            "finished",
            "warnings 0"
        ]
    );
}
