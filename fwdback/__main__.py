from .cli import main

if __name__ == "__main__":  # worker processes of a local Dask cluster import it too
    main()
