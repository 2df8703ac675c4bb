//! How a [`HeaderScanExec`] crosses the network: its job lists as protobuf (prost, as the rest
//! of a distributed plan travels). Paths go as bytes, so a non-UTF-8 file name arrives intact.

use std::path::PathBuf;
use std::sync::Arc;

use datafusion::common::{Result, internal_err};
use datafusion::execution::TaskContext;
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};
use datafusion_proto::protobuf::proto_error;
use prost::Message;

use super::header_scan::{HeaderScanExec, Jobs};
use crate::dataset::Modality;
use crate::tables::{MaskJob, SeriesJob};

/// Encodes and decodes npcql's own plan nodes; coordinator and workers both register it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NpcqlCodec;

#[derive(Clone, PartialEq, Message)]
struct HeaderScanProto {
    /// `masks` (true) or `scans`.
    #[prost(bool, tag = "1")]
    masks: bool,
    #[prost(message, repeated, tag = "2")]
    tasks: Vec<TaskProto>,
    /// Whether `projection` applies (an empty projection is legitimate: `count(*)`).
    #[prost(bool, tag = "3")]
    projected: bool,
    #[prost(uint64, repeated, tag = "4")]
    projection: Vec<u64>,
}

#[derive(Clone, PartialEq, Message)]
struct TaskProto {
    #[prost(message, repeated, tag = "1")]
    jobs: Vec<JobProto>,
}

/// A series (`path` its folder) or a mask (`path` the file, `series_dir` its series).
#[derive(Clone, PartialEq, Message)]
struct JobProto {
    #[prost(string, tag = "1")]
    patient_id: String,
    #[prost(string, tag = "2")]
    modality: String,
    #[prost(bytes = "vec", tag = "3")]
    path: Vec<u8>,
    #[prost(bytes = "vec", optional, tag = "4")]
    series_dir: Option<Vec<u8>>,
}

impl PhysicalExtensionCodec for NpcqlCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        _ctx: &TaskContext,
        _proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if !inputs.is_empty() {
            return internal_err!("HeaderScanExec has no inputs, got {}", inputs.len());
        }
        let proto = HeaderScanProto::decode(buf).map_err(|e| proto_error(format!("HeaderScanExec: {e}")))?;
        let tasks = proto
            .tasks
            .into_iter()
            .map(|task| decode_jobs(proto.masks, task.jobs))
            .collect::<Result<Vec<_>>>()?;
        let projection = proto
            .projected
            .then(|| proto.projection.iter().map(|&i| i as usize).collect());
        Ok(Arc::new(HeaderScanExec::new(tasks, projection)?))
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        _proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        let Some(scan) = node.downcast_ref::<HeaderScanExec>() else {
            return internal_err!("npcql's codec cannot encode {}", node.name());
        };
        let proto = HeaderScanProto {
            masks: matches!(scan.tasks.first(), Some(Jobs::Masks(_))),
            tasks: scan
                .tasks
                .iter()
                .map(|jobs| TaskProto {
                    jobs: encode_jobs(jobs),
                })
                .collect(),
            projected: scan.projection.is_some(),
            projection: scan.projection.iter().flatten().map(|&i| i as u64).collect(),
        };
        proto
            .encode(buf)
            .map_err(|e| proto_error(format!("HeaderScanExec: {e}")))
    }
}

fn encode_jobs(jobs: &Jobs) -> Vec<JobProto> {
    match jobs {
        Jobs::Series(jobs) => jobs
            .iter()
            .map(|job| JobProto {
                patient_id: job.patient_id.clone(),
                modality: job.modality.name().into(),
                path: path_bytes(&job.dir),
                series_dir: None,
            })
            .collect(),
        Jobs::Masks(jobs) => jobs
            .iter()
            .map(|job| JobProto {
                patient_id: job.patient_id.clone(),
                modality: job.modality.name().into(),
                path: path_bytes(&job.path),
                series_dir: job.series_dir.as_deref().map(path_bytes),
            })
            .collect(),
    }
}

fn decode_jobs(masks: bool, jobs: Vec<JobProto>) -> Result<Jobs> {
    let modality = |name: &str| {
        Modality::ALL
            .into_iter()
            .find(|m| m.name() == name)
            .ok_or_else(|| proto_error(format!("HeaderScanExec: unknown modality {name:?}")))
    };
    if masks {
        let jobs = jobs
            .into_iter()
            .map(|job| {
                Ok(MaskJob {
                    modality: modality(&job.modality)?,
                    patient_id: job.patient_id,
                    path: bytes_path(job.path),
                    series_dir: job.series_dir.map(bytes_path),
                })
            })
            .collect::<Result<_>>()?;
        Ok(Jobs::Masks(jobs))
    } else {
        let jobs = jobs
            .into_iter()
            .map(|job| {
                Ok(SeriesJob {
                    modality: modality(&job.modality)?,
                    patient_id: job.patient_id,
                    dir: bytes_path(job.path),
                })
            })
            .collect::<Result<_>>()?;
        Ok(Jobs::Series(jobs))
    }
}

#[cfg(unix)]
fn path_bytes(path: &std::path::Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    path.as_os_str().as_bytes().to_vec()
}

#[cfg(unix)]
fn bytes_path(bytes: Vec<u8>) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(std::ffi::OsString::from_vec(bytes))
}

// Elsewhere paths travel as (lossy) UTF-8: the dataset's own names are ASCII.
#[cfg(not(unix))]
fn path_bytes(path: &std::path::Path) -> Vec<u8> {
    path.to_string_lossy().into_owned().into_bytes()
}

#[cfg(not(unix))]
fn bytes_path(bytes: Vec<u8>) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_split_mask_scan_round_trips() {
        let job = |id: &str| MaskJob {
            patient_id: id.into(),
            modality: Modality::CeT1,
            path: PathBuf::from(format!("/data/MRI-Segments/{id}/ROI-CE-T1.nii")),
            series_dir: Some(PathBuf::from(format!("/data/MRI-Segments/{id}/CE-T1WI"))),
        };
        let exec = HeaderScanExec::new(
            vec![Jobs::Masks(vec![job("001"), job("002")]), Jobs::Masks(vec![job("003")])],
            Some(vec![0, 2]),
        )
        .unwrap();
        let mut buf = Vec::new();
        let converter = datafusion_proto::physical_plan::DefaultPhysicalProtoConverter {};
        NpcqlCodec
            .try_encode(Arc::new(exec.clone()), &mut buf, &converter)
            .unwrap();
        let ctx = TaskContext::default();
        let decoded = NpcqlCodec.try_decode(&buf, &[], &ctx, &converter).unwrap();
        let decoded = decoded.downcast_ref::<HeaderScanExec>().unwrap();
        assert_eq!(decoded.tasks, exec.tasks);
        assert_eq!(decoded.projection, exec.projection);
        assert_eq!(decoded.schema(), exec.schema());
    }
}
