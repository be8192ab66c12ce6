"""Labelled forgery datasets: `talkinghead forge --faces DIR --audio DIR --out DIR`.

    config    ForgeConfig: methods, compressions, splits, seed, sizes (the defaults, in one place)
    sources   the input folders -> face, audio and real-video sources with their identities
    splits    train/val/test by identity, reproducible from the seed
    plan      the jobs: one render per (pipeline, video), plus each real video's originals
    layout    where every file goes (FaceForensics++-style folders)
    worker    ForgeWorker: runs one job (render once, encode every compression, lossless masks)
    executors the jobs in this process or on Ray actors
    metadata  metadata.json (AV-Deepfake1M's fields and ours) and deepfakebench.json
    card      the dataset card (README.md in the output folder)
    runner    run_forge(): plan, resume, run, write the dataset's files
    verify    check_dataset(): every entry present once, decodable, with its mask and splits
    command   the command line
"""
