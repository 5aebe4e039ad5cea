"""Reading labelled sequences for classification (CSV, the UCR archive's .tsv, .npz, .ts)."""

import numpy as np
import pytest

from lstmkit.data import check_classes, class_order, read_sequences
from lstmkit.errors import DataError


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _error(path, **kwargs) -> str:
    with pytest.raises(DataError) as caught:
        check_classes(read_sequences(path, **kwargs))
    return str(caught.value)


# ---- CSV ---------------------------------------------------------------------------------------------


def test_text_csv_reads_texts_and_labels(tmp_path):
    path = _write(tmp_path, "reviews.csv", "review,sentiment\nA good film.,pos\n\"Bad, truly bad\",neg\n")
    data = read_sequences(path, text_col="review", label_col="sentiment")
    assert data.kind == "text" and data.sequences == ["A good film.", "Bad, truly bad"]
    assert data.labels == ["pos", "neg"] and check_classes(data) == ["neg", "pos"]


def test_a_folder_of_class_subfolders_of_text_files_is_read_as_labelled_texts(tmp_path):
    # as Keras' text_dataset_from_directory and scikit-learn's load_files read IMDB's and 20 Newsgroups' layout
    for label, texts in (("pos", ["A good film.\n", "Great!"]), ("neg", ["Bad, truly bad"])):
        (tmp_path / "train" / label).mkdir(parents=True)
        for k, text in enumerate(texts):
            _write(tmp_path / "train" / label, f"{k}.txt", text)
    _write(tmp_path / "train", "README", "not a text of any class")
    _write(tmp_path / "train" / "pos", ".hidden", "left out")
    data = read_sequences(tmp_path / "train")
    assert data.kind == "text" and data.sequences == ["Bad, truly bad", "A good film.", "Great!"]
    assert data.labels == ["neg", "pos", "pos"] and data.ids == ["neg/0.txt", "pos/0.txt", "pos/1.txt"]
    unlabelled = read_sequences(tmp_path / "train" / "pos", labelled=False)  # files alone: texts to predict
    assert unlabelled.labels is None and unlabelled.ids == ["0.txt", "1.txt"] and unlabelled.id_name == "file"
    assert _error(tmp_path / "train" / "pos") == (f"{tmp_path / 'train' / 'pos'}: is a folder without subfolders; a folder "
                                                  "of sequences holds a subfolder for each class, its files that class's "
                                                  "texts or recordings (pos/1.txt, neg/2.txt)")  # fmt: skip
    _write(tmp_path / "train" / "neg", "1.txt", "  ")
    assert _error(tmp_path / "train") == f"{tmp_path / 'train' / 'neg' / '1.txt'}: the file is empty, expected a text"


def test_a_folder_of_class_subfolders_of_csv_recordings_is_read_as_numeric_sequences(tmp_path):
    # a recording a file, as sensor data sets often come: a row a step, the numeric columns its channels
    for label, rows in (("walk", ["0,1,2", "1,3,4", "2,5,6"]), ("run", ["0,7,8", "1,9,10", "2,9,9", "3,8,8"])):
        (tmp_path / label).mkdir()
        _write(tmp_path / label, "a.csv", "t,ax,ay\n" + "\n".join(rows) + "\n")
    data = read_sequences(tmp_path)
    assert data.kind == "numeric" and data.channels == ["ax", "ay"] and data.labels == ["run", "walk"]  # 't' counts the rows
    assert data.ids == ["run/a.csv", "walk/a.csv"] and list(data.lengths) == [4, 3]
    np.testing.assert_array_equal(data.sequences[1], np.array([[1, 2], [3, 4], [5, 6]], dtype=np.float32))
    assert read_sequences(tmp_path, columns="ay").channels == ["ay"]
    _write(tmp_path / "run", "b.csv", "t,ax\n0,1\n1,2\n")
    assert _error(tmp_path) == f"{tmp_path / 'run' / 'b.csv'}: no column 'ay'. Columns: t, ax"
    _write(tmp_path / "run", "b.csv", "t,ax,ay\n0,1,\n1,2,3\n")
    assert _error(tmp_path) == (f"{tmp_path / 'run' / 'b.csv'}: column 'ay' has no finite value at row 2; every step of a "
                                "recording needs a value in each channel")  # fmt: skip


def test_a_csv_of_one_text_column_beside_the_labels_is_read_as_texts(tmp_path):
    path = _write(tmp_path, "reviews.csv", "review,label\nA good film.,pos\n\"Bad, truly bad\",neg\n")
    data = read_sequences(path)
    assert data.kind == "text" and data.sequences == ["A good film.", "Bad, truly bad"] and data.labels == ["pos", "neg"]
    path = _write(tmp_path, "likes.csv", "text,likes,label\nA good film indeed,10,pos\nA truly bad film,2,neg\n")
    assert _error(path) == (f"{path}: column 'text' holds texts, which a wide CSV leaves out, and its numeric columns "
                            "('likes') would be sequences of 1 step; give text_col text to classify the texts")  # fmt: skip
    path = _write(tmp_path, "sst2.csv", "idx,sentence,label\n0,a gripping film,1\n1,a dull mess,0\n")  # GLUE's
    data = read_sequences(path)  # the texts beside the labels and the rows' ids
    assert data.kind == "text" and data.sequences == ["a gripping film", "a dull mess"] and data.ids == ["0", "1"]
    path = _write(tmp_path, "two.csv", "title,body,label\nA,good,pos\nB,bad,neg\n")
    assert _error(path) == (f"{path}: has no numeric columns; expected one sequence a row, its steps in numeric columns "
                            "(or give text_col for a text column: one of title, body)")  # fmt: skip


def test_a_text_table_without_a_label_column_named_label_is_told_which_column_may_hold_the_labels(tmp_path):
    # Kaggle's SMS spam collection: 'v1,v2,,,', labels in v1, texts in v2, three columns of no value
    rows = ["ham,Ok lar... Joking wif u oni,,,", "spam,WINNER!! Claim your prize now,,,", "ham,See you at 5,,,",
            "spam,Free entry in a weekly competition,,,"]  # fmt: skip
    path = _write(tmp_path, "spam.csv", "v1,v2,,,\n" + "\n".join(rows) + "\n")
    assert _error(path) == (f"{path}: no column 'label'. Columns: v1, v2; the labels may be those of 'v1' (2 values: "
                            "ham, spam): give label_col v1")  # fmt: skip
    data = read_sequences(path, label_col="v1")  # the text column found beside the labels, the empty ones left out
    assert data.kind == "text" and data.sequences[1] == "WINNER!! Claim your prize now" and data.labels[:2] == ["ham", "spam"]
    path = _write(tmp_path, "imdb.csv", "review,sentiment\nA good film indeed,positive\nBad,negative\nFine,positive\n"
                                        "Dull,negative\n")  # fmt: skip
    assert _error(path, text_col="review").endswith("the labels may be those of 'sentiment' (2 values: negative, "
                                                    "positive): give label_col sentiment")  # fmt: skip
    path = _write(tmp_path, "ids.csv", "id,text\na,good film\nb,bad film\n")  # an id and texts: no labels to name
    assert _error(path, text_col="text") == f"{path}: no column 'label'. Columns: id, text"
    # AG News' train.csv and the UCI spam collection: no header, the first line is data
    path = _write(tmp_path, "ag.csv", '"3","Wall St. Bears Claw Back","Reuters - Short-sellers, Wall Street\'s dwindling band"\n'
                                    '"3","Carlyle Looks Toward Commercial Aerospace","Reuters - Private investment firm"\n')  # fmt: skip
    assert _error(path) == (f"{path}: no column 'label': its first line looks like data ('Wall St. Bears Claw Back' "
                            "is a text, not a column's name); add a header line naming the columns (the "
                            "labels' as 'label', or give label_col)")  # fmt: skip


def test_a_compressed_csv_is_read_by_the_format_before_the_compression(tmp_path):
    import gzip

    path = tmp_path / "reviews.csv.gz"
    path.write_bytes(gzip.compress(b"review,sentiment\nA good film.,pos\n\"Bad, truly bad\",neg\n"))
    data = read_sequences(path, text_col="review", label_col="sentiment")
    assert data.sequences == ["A good film.", "Bad, truly bad"] and data.labels == ["pos", "neg"]


def test_text_csv_misspelled_column_suggests_the_closest(tmp_path):
    path = _write(tmp_path, "reviews.csv", "review,label\nfine,pos\nawful,neg\n")
    assert _error(path, text_col="reveiw") == f"{path}: no column 'reveiw'; did you mean 'review'? Columns: review, label"


def test_wide_csv_rows_are_sequences_and_empty_trailing_cells_shorten_them(tmp_path):
    path = _write(tmp_path, "wide.csv", "id,t1,t2,t3,label\nx,1,2,3,a\ny,4,5,,b\nz,6,,,a\n")
    data = read_sequences(path)
    assert data.kind == "numeric" and data.n_features == 1 and data.labels == ["a", "b", "a"]
    assert list(data.lengths) == [3, 2, 1]  # the text column 'id' is not a step
    np.testing.assert_array_equal(data.sequences[1], np.array([[4], [5]], dtype=np.float32))


def test_a_wide_or_text_csvs_id_column_is_the_rows_id_and_no_step(tmp_path):
    assert read_sequences(_write(tmp_path, "wide.csv", "id,t1,t2,t3,label\nx,1,2,3,a\ny,4,5,,b\nz,6,,,a\n")).ids == ["x", "y", "z"]
    # a first column named as an id and numbered, or pandas' index: the rows' id, no step of their sequences
    for header in ("id", "sample_id", "", "Index"):
        data = read_sequences(_write(tmp_path, "wide.csv", f"{header},t1,t2,label\n1,5,6,a\n2,7,8,b\n3,9,9,a\n"))
        assert list(data.lengths) == [2, 2, 2] and data.ids == ["1", "2", "3"]
        assert data.id_name == (header or "Unnamed: 0")
    data = read_sequences(_write(tmp_path, "wide.csv", "id,t1,t2,label\n1,5,6,a\n1,7,8,b\n"))  # a step, not an id
    assert list(data.lengths) == [3, 3] and data.ids is None
    data = read_sequences(_write(tmp_path, "texts.csv", "id,author,text,label\n10,ann,good,p\n11,ann,bad,n\n"), text_col="text")
    assert data.ids == ["10", "11"] and data.id_name == "id" and data.subset([1]).ids == ["11"]


def test_wide_csv_empty_cell_inside_a_sequence_is_an_error(tmp_path):
    path = _write(tmp_path, "wide.csv", "t1,t2,t3,label\n1,2,3,a\n4,,6,b\n")
    assert _error(path) == (f"{path}: row 3 has an empty cell in column 't2' before the end of its sequence; "
                            "only trailing cells may be empty (a shorter sequence)")  # fmt: skip


def test_wide_csv_non_numeric_cell_names_row_and_column(tmp_path):
    path = _write(tmp_path, "wide.csv", "t1,t2,label\n1,2,a\n4,five,b\n")
    assert _error(path) == f"{path}: column 't2' has a non-numeric value 'five' at row 3"


LONG = "rec,t,ax,ay,activity\nb,2,5,50,run\na,1,1,10,walk\nb,1,4,40,run\na,3,3,30,walk\na,2,2,20,walk\nc,1,6,60,walk\n"


def test_long_csv_rows_are_steps_of_the_sequence_their_id_names(tmp_path):
    path = _write(tmp_path, "long.csv", LONG)
    data = read_sequences(path, id_col="rec", time_col="t", label_col="activity")
    assert data.kind == "numeric" and data.n_features == 2 and data.ids == ["b", "a", "c"]  # first rows' order
    assert data.labels == ["run", "walk", "walk"] and list(data.lengths) == [2, 3, 1]
    np.testing.assert_array_equal(data.sequences[1], np.array([[1, 10], [2, 20], [3, 30]], dtype=np.float32))
    np.testing.assert_array_equal(data.sequences[0], np.array([[4, 40], [5, 50]], dtype=np.float32))  # by time
    unordered = read_sequences(path, id_col="rec", label_col="activity")  # the file's order, the time a channel
    np.testing.assert_array_equal(unordered.sequences[0], np.array([[2, 5, 50], [1, 4, 40]], dtype=np.float32))
    assert read_sequences(path, id_col="rec", time_col="t", label_col="activity", labelled=False).subset([2, 0]).ids == ["c", "b"]
    no_labels = _write(tmp_path, "new.csv", "rec,t,ax,ay\nq,1,1,2\n")
    assert read_sequences(no_labels, id_col="rec", time_col="t", labelled=False).labels is None
    lines = LONG.splitlines()  # written by pandas' to_csv with its index: row numbers first, no channel
    indexed = _write(tmp_path, "indexed.csv", "\n".join(["," + lines[0], *(f"{k},{line}" for k, line in enumerate(lines[1:]))]))
    again = read_sequences(indexed, id_col="rec", time_col="t", label_col="activity")
    assert again.n_features == 2 and np.array_equal(again.sequences[1], data.sequences[1])


@pytest.mark.parametrize("text, kwargs, message", [
    (LONG.replace("a,2,2,20,walk", "a,2,2,20,run"), {},
     "sequence 'a' has the label 'walk' at row 3 and 'run' at row 6; a sequence has one class, on each of its rows"),
    (LONG.replace("a,2,2,20,walk", "a,2,,20,walk"), {},
     ", sequence 'a': column 'ax' has no value at row 6; every step of a sequence needs a value in each channel"),
    (LONG.replace("a,2,2,20,walk", "a,3,2,20,walk"), {}, ", sequence 'a': column 't' has the time 3 twice (rows 5 and 6)"),
    (LONG, {"label_col": "t"}, "the label column 't' cannot also be the time column; choose another label_col"),
    ("rec,t,name,activity\na,1,x,walk\n", {}, "has no numeric column besides the id, time and label columns; in "
                                               "long format each numeric column is a channel of the sequences"),
])  # fmt: skip
def test_long_csv_errors_name_the_sequence(tmp_path, text, kwargs, message):
    path = _write(tmp_path, "long.csv", text)
    separator = "" if message.startswith(",") else ": "
    assert _error(path, **{"id_col": "rec", "time_col": "t", "label_col": "activity", **kwargs}) == f"{path}{separator}{message}"


def test_long_csv_columns_choose_the_channels_in_their_order(tmp_path):
    path = _write(tmp_path, "long.csv", LONG.replace("rec,t,ax,ay,activity", "rec,t,ax,ay,activity"))
    data = read_sequences(path, id_col="rec", time_col="t", label_col="activity", columns="ay, ax")
    assert data.channels == ["ay", "ax"] and data.n_features == 2
    np.testing.assert_array_equal(data.sequences[2], np.array([[60, 6]], dtype=np.float32))
    assert read_sequences(path, id_col="rec", label_col="activity").channels == ["t", "ax", "ay"]
    assert _error(path, id_col="rec", time_col="t", label_col="activity", columns="ax,t") == (
        f"{path}: the time column 't' cannot also be a channel; leave it out of columns")


def test_id_col_needs_a_csv(tmp_path):
    path = _write(tmp_path, "x.ts", "@problemName x\n")
    assert _error(path, id_col="rec") == f"{path}: id_col needs a CSV file; .ts files hold numeric sequences, one each"


def test_single_class_is_an_error(tmp_path):
    path = _write(tmp_path, "one.csv", "text,label\ngood,pos\nfine,pos\n")
    assert _error(path, text_col="text") == (
        f"{path}: column 'label' has a single class ('pos'); classification needs at least two"
    )


def test_empty_file_is_an_error(tmp_path):
    path = _write(tmp_path, "empty.csv", "")
    assert _error(path, text_col="text") == f"{path}: the file is empty, expected a header row and data rows"


def test_binary_file_is_an_error(tmp_path):
    path = tmp_path / "blob.csv"
    path.write_bytes(b"\x89PNG\x00\x01\x02binary")
    assert _error(path) == f"{path}: looks like a binary file, expected a CSV text file"


@pytest.mark.parametrize("suffix", [".xml", ".docx"])
def test_other_extensions_are_refused(tmp_path, suffix):
    path = _write(tmp_path, "data" + suffix, "a\tb\n")
    message = _error(path)
    assert message.startswith(f"{path}: '{suffix}' files are not read by lstmkit classify")
    assert message.endswith("use .csv, .xlsx, .parquet or .jsonl (a text column or one numeric sequence a row), "
                            ".tsv or .txt (the UCR archive's), .npz (arrays X and y), .ts or .arff (UCR/UEA)")  # fmt: skip


# ---- the UCR archive's .tsv ---------------------------------------------------------------------------


def test_a_ucr_archive_tsv_reads_the_label_first_and_nan_padding_as_a_shorter_sequence(tmp_path):
    # as UCRArchive_2018/PLAID/PLAID_TRAIN.tsv: no header, tabs, the class first, NaN after a shorter series' end
    path = _write(tmp_path, "PLAID_TRAIN.tsv", "3\t0.5\t-1.25\t2e-2\tNaN\n\n10\t1\t2\t3\t4\n3\t7\tNaN\tNaN\tNaN\n")
    data = read_sequences(path)
    assert data.kind == "numeric" and data.labels == ["3", "10", "3"] and check_classes(data) == ["3", "10"]
    assert [s.ravel().tolist() for s in data.sequences] == [[0.5, -1.25, np.float32(0.02)], [1, 2, 3, 4], [7]]
    assert all(s.dtype == np.float32 and s.shape[1] == 1 for s in data.sequences)
    commas = _write(tmp_path, "old.tsv", "1,0.5,0.25\n2,1,2\n")  # the 2015 archive's commas
    assert [s.ravel().tolist() for s in read_sequences(commas).sequences] == [[0.5, 0.25], [1, 2]]


def test_the_txt_files_of_timeseriesclassification_com_read_their_spaces_and_their_labels_as_classes(tmp_path):
    path = _write(tmp_path, "GunPoint_TRAIN.txt", "  2.0000000e+00  -6.4788544e-01  -6.4199155e-01\n"
                                                  "  1.0000000e+00  -7.7895710e-01  -7.7802223e-01\n")  # fmt: skip
    data = read_sequences(path)
    assert data.labels == ["2", "1"] and data.sequences[1].ravel().tolist() == pytest.approx([-0.7789571, -0.77802223])
    header = _write(tmp_path, "table.txt", "label value\na 1\n")
    assert _error(header) == (f"{header}: has a header; a .txt file is read as the UCR archive writes it (each line a "
                              "class label, then the values); save a table as .csv")  # fmt: skip


def test_a_csv_without_a_header_is_named_as_such(tmp_path):
    path = _write(tmp_path, "ecg.csv", "1,0.5,0.25,0.5\n2,1.5,2.5,1.5\n")  # the header would be 1, 0.5, 0.25, 0.5.1
    assert _error(path) == (f"{path}: its first line holds values (1, 0.5, 0.25, ...), not column names; add a header "
                            "line, naming the label column 'label' (label_col), or, where each line is the class label "
                            "then the values as the UCR archive writes them, save it as .tsv")  # fmt: skip
    steps = _write(tmp_path, "steps.csv", "0,1,2,3,4\n0.5,0.25,0.5,1,2\n")  # step numbers are a header: no label column
    assert _error(steps) == f"{steps}: no column 'label'. Columns: 0, 1, 2, 3, 4"
    saved = _write(tmp_path, "ecg.tsv", path.read_text())  # as the message says: the commas are read too
    assert read_sequences(saved).labels == ["1", "2"]


def test_a_tsv_with_a_header_reads_as_a_csv_separated_by_tabs(tmp_path):
    wide = _write(tmp_path, "wide.tsv", "label\t0\t1\t2\t3\t4\na\t1\t2\t3\t4\t5\nb\t5\t4\t3\t2\t1\n")
    data = read_sequences(wide)
    assert data.labels == ["a", "b"] and data.sequences[1].ravel().tolist() == [5, 4, 3, 2, 1]
    text = _write(tmp_path, "reviews.tsv", "review\tsentiment\nA good, fine film.\tpos\nBad\tneg\n")
    assert read_sequences(text, text_col="review", label_col="sentiment").sequences == ["A good, fine film.", "Bad"]


@pytest.mark.parametrize("text, message", [
    ("1\t0.5\t0.25\n2\t0.5\tabc\n", "line 2, value 2: 'abc' is not a number; each line is a class label, then the values"),
    ("1\t0.5\tNaN\t0.25\n", "line 1, value 2 is missing before the end of its sequence; only trailing values may be "
                              "missing (a shorter sequence); fill it in, e.g. by interpolation"),
    ("1\t0.5\n2\tNaN\tNaN\n", "line 2 has a label but no values; every line needs a sequence"),
    ("1\t0.5\n\t0.5\n", "line 2 has no class label in its first field; each line is a label, then the values"),
    ("1\t0.5\t1e39\n", "line 1, value 2: '1e39' is infinite or too large for float32"),
    ("1\t0.5\n1\t0.25\n", "has a single class ('1'); classification needs at least two"),
])  # fmt: skip
def test_a_bad_ucr_archive_tsv_is_one_line_naming_the_line(tmp_path, text, message):
    path = _write(tmp_path, "bad.tsv", text)
    assert _error(path) == f"{path}: {message}"


def test_labels_sort_as_numbers_when_they_are_numbers():
    assert class_order(["10", "2", "1", "2"]) == ["1", "2", "10"]
    assert class_order(["b", "a", "10"]) == ["10", "a", "b"]


# ---- .npz ---------------------------------------------------------------------------------------------


def test_npz_three_dimensional_X_with_trailing_nan_steps(tmp_path):
    X = np.arange(24, dtype=float).reshape(3, 4, 2)
    X[1, 2:] = np.nan  # sequence 1 has 2 steps
    np.savez(tmp_path / "d.npz", X=X, y=np.array([0, 1, 0]))
    data = read_sequences(tmp_path / "d.npz")
    assert data.n_features == 2 and list(data.lengths) == [4, 2, 4] and data.labels == ["0", "1", "0"]
    np.testing.assert_array_equal(data.sequences[1], X[1, :2].astype(np.float32))


def test_npz_two_dimensional_X_is_univariate(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.ones((5, 7)), y=np.array(["a", "b", "a", "b", "a"]))
    data = read_sequences(tmp_path / "d.npz")
    assert data.n_features == 1 and list(data.lengths) == [7] * 5 and data.labels[1] == "b"


def test_npz_X_and_y_lengths_must_match(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.zeros((100, 5, 1)), y=np.zeros(99))
    assert _error(path) == f"{path}: X has 100 sequences but y has 99 labels"


def test_npz_missing_array_is_named(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.zeros((4, 5)), labels=np.zeros(4))
    assert _error(path) == f"{path}: has no array 'y' (the class labels); expected X (N, T, F) or (N, T) and y (N,), or X_train, y_train, X_test and y_test, found X, labels"


def test_npz_of_a_published_split_gives_its_training_arrays_and_its_test_arrays_beside(tmp_path):
    # tslearn's cached UCR sets and Keras' datasets (x_train, ...) are saved so
    path = tmp_path / "Trace.npz"
    np.savez(path, X_train=np.ones((4, 6, 1)), y_train=np.array([1, 2, 3, 4]), X_test=np.zeros((2, 5)), y_test=np.array([4, 1]))
    data = read_sequences(path)
    assert len(data) == 4 and data.labels == ["1", "2", "3", "4"] and data.label_name == "y_train"
    assert len(data.test_part) == 2 and data.test_part.labels == ["4", "1"] and list(data.test_part.lengths) == [5, 5]
    assert data.subset([0, 1]).test_part is None
    np.savez(path, x_train=np.ones((4, 6)), y_train=np.arange(4), x_test=np.ones((2, 6)), y_test=np.arange(2))
    assert len(read_sequences(path).test_part) == 2
    np.savez(path, x_train=np.ones((4, 6)), y_train=np.arange(4), x_test=np.ones((2, 6)))
    assert _error(path) == f"{path}: has no array 'y_test' (the class labels of x_test), found x_train, y_train, x_test"
    assert read_sequences(path, labelled=False).test_part.labels is None
    np.savez(path, X_train=np.ones((4, 6)), y_train=np.arange(3), X_test=np.ones((2, 6)), y_test=np.arange(2))
    assert _error(path) == f"{path}: X_train has 4 sequences but y_train has 3 labels"


def test_npz_nan_inside_a_sequence_is_an_error(tmp_path):
    path = tmp_path / "d.npz"
    X = np.ones((3, 5))
    X[2, 1] = np.nan
    np.savez(path, X=X, y=np.array([0, 1, 1]))
    assert _error(path) == (f"{path}: X[2, 1] is NaN before the end of sequence 2 (its last value is at step 4); "
                            "only trailing steps may be NaN (a shorter sequence)")  # fmt: skip


def test_npz_empty_and_non_npz_files_are_errors(tmp_path):
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    assert _error(empty) == f"{empty}: the file is empty, expected an .npz archive holding X and y"
    text = _write(tmp_path, "text.npz", "X,y\n1,2\n")
    assert _error(text).startswith(f"{text}: cannot be read as an .npz archive")


# ---- .ts ----------------------------------------------------------------------------------------------

UNIVARIATE = """# a comment line
@problemName Toy
@timeStamps false
@missing false
@univariate true
@equalLength true
@seriesLength 4
@classLabel true 1 2
@data
1.0,2.0,3.0,4.0:1
-1,-2,-3,-4e0:2
"""

MULTIVARIATE_UNEQUAL = """@problemName Multi
@timeStamps false
@missing true
@univariate false
@dimensions 2
@equalLength false
@classLabel true up down
@data
1,2,3:10,20,30:up
4,5,?:40,50,?:down
7:70:up
"""


def test_ts_univariate_equal_length(tmp_path):
    data = read_sequences(_write(tmp_path, "toy.ts", UNIVARIATE))
    assert data.kind == "numeric" and data.n_features == 1 and data.labels == ["1", "2"]
    np.testing.assert_array_equal(data.sequences[1][:, 0], [-1, -2, -3, -4])
    assert data.declared_labels == ["1", "2"]


def test_ts_multivariate_unequal_length(tmp_path):
    data = read_sequences(_write(tmp_path, "multi.ts", MULTIVARIATE_UNEQUAL))
    assert data.n_features == 2 and list(data.lengths) == [3, 2, 1] and data.labels == ["up", "down", "up"]
    np.testing.assert_array_equal(data.sequences[0], [[1, 10], [2, 20], [3, 30]])
    np.testing.assert_array_equal(data.sequences[1], [[4, 40], [5, 50]])  # the trailing '?' are cut off


def test_arff_files_of_the_archive_read_as_their_ts_files_do(tmp_path):
    # timeseriesclassification.com ships each set as .arff beside .ts: the same sequences and labels either way
    univariate = ("% a comment\n@relation Toy\n@attribute att0 numeric\n@attribute att1 numeric\n@attribute att2 numeric\n"
                  "@attribute att3 numeric\n@attribute target {1,2}\n@data\n1.0,2.0,3.0,4.0,1\n-1,-2,-3,-4e0,2\n")  # fmt: skip
    multivariate = ("@relation Multi\n@attribute relationalAtt relational\n@attribute t0 numeric\n@attribute t1 numeric\n"
                    "@attribute t2 numeric\n@end relationalAtt\n@attribute activity {up,down}\n@data\n"
                    "'1,2,3\\n10,20,30',up\n'4,5,?\\n40,50,?',down\n'7,?,?\\n70,?,?',up\n")  # fmt: skip
    for arff, ts in ((univariate, UNIVARIATE), (multivariate, MULTIVARIATE_UNEQUAL)):
        read, expected = read_sequences(_write(tmp_path, "toy.arff", arff)), read_sequences(_write(tmp_path, "toy.ts", ts))
        assert read.labels == expected.labels and read.n_features == expected.n_features and read.kind == "numeric"
        assert all(np.array_equal(a, b) and a.dtype == np.float32 for a, b in zip(read.sequences, expected.sequences))
    assert read.label_name == "attribute 'activity'"
    path = _write(tmp_path, "gap.arff", univariate.replace("1.0,2.0,3.0,4.0,1", "1.0,?,3.0,4.0,1"))
    assert _error(path) == (f"{path}: sequence 1, step 2 is missing ('?') before the end of the sequence; only trailing "
                            "steps may be missing (a shorter sequence)")  # fmt: skip
    path = _write(tmp_path, "nolabel.arff", "@relation x\n@attribute a numeric\n@attribute b numeric\n@data\n1,2\n")
    assert _error(path) == (f"{path}: has no nominal attribute to hold the class labels (@attribute target {{a,b}}); "
                            "its attributes are a, b")  # fmt: skip
    assert read_sequences(path, labelled=False).labels is None
    path = _write(tmp_path, "csv.arff", "a,b,label\n1,2,x\n")
    assert _error(path) == f"{path}: cannot be read as ARFF (no @relation, @attribute and @data lines)"
    path = _write(tmp_path, "other.arff", univariate.replace("-4e0,2", "-4e0,3"))
    assert _error(path) == f"{path}: cannot be read as ARFF (3 value not in ('1', '2'))"


def test_ts_unknown_header_names_the_line(tmp_path):
    path = _write(tmp_path, "bad.ts", "@problemName Toy\n@univariate true\n@foo bar\n@classLabel true a b\n@data\n1,2:a\n")
    assert _error(path) == f"{path}: line 3: unknown header '@foo'"


def test_ts_without_data_line_is_an_error(tmp_path):
    path = _write(tmp_path, "bad.ts", "@problemName Toy\n@classLabel true a b\n")
    assert _error(path) == (f"{path}: has no @data line; a .ts file has its header (@problemName, @classLabel, ...), "
                            "then @data, then one series a line")  # fmt: skip


def test_ts_without_class_labels_cannot_train(tmp_path):
    path = _write(tmp_path, "bad.ts", "@problemName Toy\n@classLabel false\n@data\n1,2,3\n")
    assert _error(path) == f"{path}: has no class labels (@classLabel false); lstmkit classify needs labelled data"
    assert read_sequences(path, labelled=False).labels is None  # predicting needs no labels


def test_ts_wrong_number_of_dimensions_names_the_line(tmp_path):
    lines = "@problemName Toy\n@classLabel true a b\n@data\n" + "1,2:3,4:5,6:a\n" * 8 + "1,2:3,4:b\n"
    path = _write(tmp_path, "bad.ts", lines)
    assert _error(path) == f"{path}: line 12 has 2 dimensions, the first data line had 3"


def test_ts_label_must_be_declared(tmp_path):
    path = _write(tmp_path, "bad.ts", "@classLabel true a b\n@data\n1,2:a\n3,4:c\n")
    assert _error(path) == f"{path}: line 4: class label 'c' is not one of the @classLabel labels (a, b)"


def test_ts_non_numeric_value_names_line_and_dimension(tmp_path):
    path = _write(tmp_path, "bad.ts", "@classLabel true a b\n@data\n1,2:3,4:a\n1,2:3,x:b\n")
    assert _error(path) == f"{path}: line 4, dimension 2: value 2 'x' is not a number (missing values are written '?')"


def test_ts_binary_file_is_said_to_be_no_ts_file(tmp_path):
    path = tmp_path / "blob.ts"
    path.write_bytes(b"\x00\x01\x02\x03")
    assert _error(path) == f"{path}: looks like a binary file, expected a .ts text file"
