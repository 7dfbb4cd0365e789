"""Lists of method specs as every tailsweep command takes them: separated by
commas, where a comma ends a spec only where a new one starts (none, random:,
topk:, pomt:, tome:, hdp:) outside brackets (common/model/method_spec.h,
split_method_list; this is the same rule for the Python benches)."""

STARTS = ("none", "random:", "topk:", "pomt:", "tome:", "hdp:")


def _starts_a_spec(rest):
    for start in STARTS:
        if rest.startswith(start):
            if start != "none" or len(rest) == 4 or rest[4] in ",+":
                return True
    return False


def split_methods(text):
    items, begin, depth = [], 0, 0
    for i in range(len(text) + 1):
        end = i == len(text)
        if not end and text[i] == "[":
            depth += 1
        if not end and text[i] == "]":
            depth -= 1
        if end or (text[i] == "," and depth == 0 and _starts_a_spec(text[i + 1:])):
            item = text[begin:i]
            if not item or item.endswith(","):
                raise ValueError(f"method list {text!r}: an empty item")
            items.append(item)
            begin = i + 1
    return items


if __name__ == "__main__":
    # The C++ rule's cases (tests/common/model/method_spec_test.cpp).
    assert split_methods("none,topk:8,pomt:58@3") == ["none", "topk:8", "pomt:58@3"]
    assert split_methods("hdp:heads=0.1,blocks=0.5,tome:8,4,tome:[4,4,2],none") == [
        "hdp:heads=0.1,blocks=0.5", "tome:8,4", "tome:[4,4,2]", "none"]
    print("ok")
