"""FineSkiing data: typed records, dataset folders, validation, adapters for other datasets."""

from judgemind.data.dataset import ANNOTATIONS_FILE, DATASET_FILE, Dataset, dumps_record, write_dataset
from judgemind.data.records import (
    COMPONENTS,
    SCHEMA_VERSION,
    STAGES,
    DatasetMeta,
    Deduction,
    JudgeScore,
    Problem,
    Record,
    record_from_dict,
)
from judgemind.data.safe_pickle import safe_load_pickle
from judgemind.data.validate import load_dataset, validate_dataset, validate_record

__all__ = [
    "ANNOTATIONS_FILE",
    "DATASET_FILE",
    "Dataset",
    "dumps_record",
    "load_dataset",
    "write_dataset",
    "COMPONENTS",
    "SCHEMA_VERSION",
    "STAGES",
    "DatasetMeta",
    "Deduction",
    "JudgeScore",
    "Problem",
    "Record",
    "record_from_dict",
    "safe_load_pickle",
    "validate_dataset",
    "validate_record",
]
